/**
 * What the translator reports: errors and warnings, each tied to a path in the Butane YAML
 * (`storage.files.0.mode`) and, when the YAML still has that node, its line and column.
 * A translation that has any error throws ButaneError (an OstreeError with code EINVAL) carrying
 * every diagnostic found, so one run shows all mistakes, as Butane does.
 */
import { OstreeError } from '../errors.js';

/** A key or list index on the way from the document's root to a node. */
export type YamlPath = readonly (string | number)[];

export type Severity = 'error' | 'warning';

export interface Diagnostic {
  severity: Severity;
  path: YamlPath;
  message: string;
  /** 1-based, present when the path names a node of the input. */
  line?: number;
  column?: number;
}

export function pathText(path: YamlPath): string {
  return path.length === 0 ? '$' : path.join('.');
}

/** `error: storage.files.0.mod: unknown key (line 5, column 7)`; without the position when `withPosition` is false. */
export function formatDiagnostic(d: Diagnostic, withPosition = true): string {
  const where = withPosition && d.line !== undefined ? ` (line ${d.line}, column ${d.column})` : '';
  return `${d.severity}: ${pathText(d.path)}: ${d.message}${where}`;
}

export class ButaneError extends OstreeError {
  readonly diagnostics: readonly Diagnostic[];
  /** One line: what failed, without the diagnostics. */
  readonly summary: string;
  constructor(summary: string, diagnostics: readonly Diagnostic[]) {
    const lines = diagnostics.filter((d) => d.severity === 'error').map((d) => formatDiagnostic(d));
    super('EINVAL', lines.length > 0 ? `${summary}:\n${lines.join('\n')}` : summary);
    this.name = 'ButaneError';
    this.diagnostics = diagnostics;
    this.summary = summary;
  }
}

/** Collects diagnostics during one translation; positions are filled in from the source map. */
export class Report {
  readonly entries: Diagnostic[] = [];
  constructor(private readonly locate: (path: YamlPath) => { line: number; column: number } | undefined) {}

  error(path: YamlPath, message: string): void {
    this.add('error', path, message);
  }

  warn(path: YamlPath, message: string): void {
    this.add('warning', path, message);
  }

  hasErrors(): boolean {
    return this.entries.some((d) => d.severity === 'error');
  }

  warnings(): Diagnostic[] {
    return this.entries.filter((d) => d.severity === 'warning');
  }

  private add(severity: Severity, path: YamlPath, message: string): void {
    const pos = this.locate(path);
    this.entries.push(pos ? { severity, path: [...path], message, line: pos.line, column: pos.column } : { severity, path: [...path], message });
  }
}
