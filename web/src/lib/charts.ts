// ECharts, registered with only the parts the dashboard draws (line, bar, pie; canvas), so the rest of the
// library stays out of the shipped JavaScript. Loaded only by the dashboard's lazy chunk.
import { use } from 'echarts/core'
import { CanvasRenderer } from 'echarts/renderers'
import { BarChart, LineChart, PieChart } from 'echarts/charts'
import { GridComponent, LegendComponent, TooltipComponent } from 'echarts/components'

use([CanvasRenderer, BarChart, LineChart, PieChart, GridComponent, LegendComponent, TooltipComponent])
