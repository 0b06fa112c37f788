// The chart component with ECharts registered piecemeal (lib/charts.ts). Screens load it with
// defineAsyncComponent, so their data requests start while the chart library is still being fetched and
// compiled.
import './charts'
import VChart from 'vue-echarts'

export default VChart
