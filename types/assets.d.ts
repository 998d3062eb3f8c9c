// Files imported as text (`import css from "./page.css" with { type: "text" }`): Bun gives their contents.
declare module "*.css" {
  const text: string;
  export default text;
}
// The status page's script (src/status/page.ts): a browser script, imported only as text.
declare module "*/page/page.js" {
  const text: string;
  export default text;
}
