/** Messages between the fleet simulation's coordinator (main.ts) and its worker processes (worker.ts). */
export interface NodeSpec { idx: number; uuid: string; group: string; periodic: boolean }

export interface SimSetup {
  dir: string;
  graphUrl: string;
  repoUrl: string;
  lockUrl: string;
  /** payload → version, and which payloads fail their health checks */
  versions: Record<string, string>;
  bad: string[];
  initial: string;
  steadyIntervalSecs: number;
  tickSecs: number;
  startEpochMs: number;
  concurrency: number;
}

export type ToWorker =
  | { type: 'init'; setup: SimSetup; nodes: NodeSpec[] }
  | { type: 'tick'; tick: number; killRebootingIn: string | null; kill: number };

export interface TickStats {
  type: 'tick-done';
  tick: number;
  /** version → nodes up on it */
  onRelease: Record<string, number>;
  /** group → nodes down in a reboot */
  rebooting: Record<string, number>;
  dead: number;
  rebootsStarted: number;
  /** nodes that ever rebooted into each version */
  attempted: Record<string, number>;
  killed: string[];
  cycles: number;
  cpuMicros: number;
  errors: string[];
}

export type FromWorker = { type: 'ready'; rssBytes: number } | TickStats;
