/**
 * sigs.k8s.io/yaml's Marshal as Helm calls it for Chart.yaml, Chart.lock and
 * `helm show chart`: json.Marshal of a struct first (src/gocompat/json.ts), then
 * go-yaml v2's Marshal of the JSON-shaped result.
 */
import { Emitter } from './emit.js';

/**
 * sigs.k8s.io/yaml's Marshal of a value already in JSON shape (what json.Marshal of
 * a Go struct produced): objects become mappings with sorted keys.
 */
export function goYamlMarshal(v: unknown): string {
  const e = new Emitter();
  e.document(v);
  return e.result();
}
