/**
 * The command line as a user would retype it: `seal` and the arguments, shell-quoted. process.argv[1] is the
 * script's path (an npx cache folder, say), which says nothing to a reader of a report.
 */
export function invocationText(argv: readonly string[] = process.argv): string {
  return ["seal", ...argv.slice(2).map(shellQuote)].join(" ");
}

function shellQuote(arg: string): string {
  return /^[\w@%+=:,./-]+$/.test(arg) ? arg : `'${arg.replaceAll("'", `'\\''`)}'`;
}
