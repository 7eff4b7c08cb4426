/**
 * Fetching the graph: `GET BASE_URL/v1/graph?...` with Zincati's query parameters. A static
 * file server ignores the query; a real Cincinnati server may use it.
 */
import { OstreeError } from '../../errors.js';
import type { HttpClient } from '../http.js';
import { GRAPH_MAX_BYTES, parseGraph, type Graph } from './cincinnati.js';

export interface GraphQuery { basearch: string; group: string; node_uuid: string; os_version: string; rollout_wariness: string }

export async function fetchGraph(http: HttpClient, baseUrl: string, q: GraphQuery): Promise<Graph> {
  const u = new URL(baseUrl.replace(/\/+$/, '') + '/v1/graph');
  for (const [k, v] of Object.entries(q)) u.searchParams.set(k, v);
  const r = await http.request('GET', u.toString(), { accept: 'application/json' });
  if (r.status !== 200) throw new OstreeError('EIO', `update graph ${u.origin}${u.pathname}: HTTP ${r.status}`);
  if (r.body.length > GRAPH_MAX_BYTES) throw new OstreeError('ECORRUPT', 'update graph too large');
  return parseGraph(r.body.toString('utf8'));
}
