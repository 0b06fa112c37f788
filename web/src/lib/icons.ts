// The icons registered globally: those the templates name and those the navigation names (`NavItem.icon`),
// not all three hundred of @element-plus/icons-vue. A test checks every navigation icon is here.
import {
  Bell, Calendar, Clock, Connection, DataAnalysis, Delete, Document, Download, EditPen, Files, Guide, List, Location,
  MapLocation, Monitor, Notification, OfficeBuilding, Phone, Plus, Postcard, Printer, Search, Tickets, Upload,
  UploadFilled, User,
} from '@element-plus/icons-vue'

export const ICONS = {
  Bell, Calendar, Clock, Connection, DataAnalysis, Delete, Document, Download, EditPen, Files, Guide, List, Location,
  MapLocation, Monitor, Notification, OfficeBuilding, Phone, Plus, Postcard, Printer, Search, Tickets, Upload,
  UploadFilled, User,
}
