// The Live route: the view is written in Solid under ../live/; History lists a session's alerts with
// the same component.
export { mountLive } from "../live/LiveView";
export { alertList } from "../live/alerts";
