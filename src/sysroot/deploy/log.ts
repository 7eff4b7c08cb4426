/**
 * How the deploy operations report: `Log` receives the user-visible messages (the CLI prints
 * them on stdout); `journal` is for what upstream sends to the journal only (stderr here).
 */
export type Log = (msg: string) => void;
export const noLog: Log = () => {};
export const journal: Log = (m) => { process.stderr.write(`${m}\n`); };
