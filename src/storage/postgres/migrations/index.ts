export { initial } from "./001-initial.js";
