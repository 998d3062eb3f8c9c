/** runtime.ts's own arguments (the config and log paths), taken off argv before libs.ts's commander reads two. */
export const [configPath = "", logPath = ""] = process.argv.splice(4, 2);
