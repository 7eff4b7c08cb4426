/**
 * Repository mode name -> backend. A new mode is one backend file and one line here (and its
 * traits in mode.ts).
 */
import type { ModeBackend } from './backend.js';
import type { RepoMode } from './mode.js';
import { archive } from './archive.js';
import { bare } from './bare.js';
import { bareUser } from './bare-user.js';
import { bareUserOnly } from './bare-user-only.js';

const BACKENDS: Record<RepoMode, ModeBackend> = {
  'bare': bare,
  'bare-user': bareUser,
  'bare-user-only': bareUserOnly,
  'archive': archive,
};

export function backendFor(mode: RepoMode): ModeBackend { return BACKENDS[mode]; }
