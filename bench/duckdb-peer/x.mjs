import { DuckDBInstance } from '@duckdb/node-api';
const file = process.argv[2];
const G = (from) => `SELECT category, count(*) AS n, sum(amount) AS total, max(ts) AS latest FROM ${from} GROUP BY category ORDER BY category`;
async function peer() {
  const t = performance.now();
  const db = await DuckDBInstance.create(':memory:'); const c = await db.connect();
  const r = await c.runAndReadAll(G(`read_parquet('${file}')`)); r.getRowsJS(); c.closeSync();
  return (performance.now() - t) / 1000;
}
async function ours(v) {
  const t = performance.now();
  const db = await DuckDBInstance.create(':memory:'); const c = await db.connect();
  const sets = ["SET autoinstall_known_extensions = false", "SET autoload_known_extensions = false", "SET temp_directory = ''", "SET preserve_insertion_order = true"];
  if (v.mem) sets.push(`SET memory_limit = '1GB'`);
  for (const s of sets) await c.run(s);
  await c.run(`CREATE VIEW t AS SELECT * FROM read_parquet(['${file}'], union_by_name = true)`);
  if (v.lock) { await c.run(`SET allowed_paths = ['${file}']`); await c.run(`SET enable_external_access = false`); await c.run(`SET lock_configuration = true`); }
  if (v.txn) await c.run('BEGIN TRANSACTION READ ONLY');
  const sql = v.wrap ? `SELECT COLUMNS(*)::VARCHAR FROM (\n${G('t')}\n) LIMIT 1001 OFFSET 0` : G('t');
  const r = await c.streamAndReadAll(sql); r.getRowsJS();
  if (v.txn) await c.run('ROLLBACK');
  c.closeSync();
  return (performance.now() - t) / 1000;
}
const all = { mem: true, lock: true, txn: true, wrap: true };
const variants = { full: all, nomem: { ...all, mem: false }, nolock: { ...all, lock: false }, notxn: { ...all, txn: false }, nowrap: { ...all, wrap: false }, bare: {} };
const res = { peer: [] }; for (const k in variants) res[k] = [];
for (let i = 0; i < Number(process.argv[3] ?? 5); i++) {
  res.peer.push(await peer());
  for (const k in variants) res[k].push(await ours(variants[k]));
}
const med = (a) => { const s = [...a].sort((x, y) => x - y); return s[Math.floor(s.length / 2)].toFixed(3); };
for (const k in res) console.log(k.padEnd(7), 'median', med(res[k]), 'min', Math.min(...res[k]).toFixed(3));
