// The tables benchmark's peer and data generator: DuckDB's own engine (the Node.js API, the same DuckDB release as
// DuckDB.NET in Quilt.Tables), run by bench/Quilt.Bench's tables suite.
//   node peer.mjs generate parquet|csv ROWS PATH   writes the benchmark table (deterministic: every value is a function of the row number)
//   node peer.mjs query parquet|csv PATH RUNS      runs the suite's GROUP BY RUNS times, each in a fresh in-memory database
//   node peer.mjs sandbox parquet|csv PATH RUNS    the same, as our table_query runs it (TableSandbox: its settings, the view,
//                                                  the lock-down, the SELECT check, a read-only transaction, DESCRIBE, the paged cast)
// Prints one JSON line: {"seconds": [...], "rows": n, "checksum": "..."} (query) or {"seconds": s, "bytes": n} (generate).
import { DuckDBInstance } from '@duckdb/node-api';
import { statSync } from 'node:fs';

const [mode, format, arg3, arg4] = process.argv.slice(2);
const literal = (text) => `'${text.replaceAll("'", "''")}'`;

// The benchmark table: a low-cardinality key to group by, a number, a timestamp, and two high-cardinality numbers
// (hashes of the row number, which compress no better in Parquet than real identifiers do).
const rowsSql = (rows) => `
  SELECT i AS id,
         'cat-' || lpad(CAST(hash(i) % 1000 AS VARCHAR), 3, '0') AS category,
         CAST(hash(i * 7) % 1000000 AS DOUBLE) / 100 AS amount,
         TIMESTAMP '2024-01-01' + to_seconds(CAST(hash(i * 13) % 31536000 AS BIGINT)) AS ts,
         hash(i * 17) AS token,
         hash(i * 31) AS code
  FROM range(${Number(rows)}) t(i)`;

// The GROUP BY the suite measures, the same text as the suite sends to table_query (there the table is the view t).
export const groupBy = (from) => `SELECT category, count(*) AS n, sum(amount) AS total, max(ts) AS latest FROM ${from} GROUP BY category ORDER BY category`;

const reader = (path) => (format === 'parquet' ? `read_parquet(${literal(path)})` : `read_csv(${literal(path)})`);

if (mode === 'generate') {
  const start = performance.now();
  const db = await DuckDBInstance.create(':memory:');
  const connection = await db.connect();
  // Rows in row-number order (DuckDB keeps insertion order by default; said here because the checksums rely on it).
  await connection.run('SET preserve_insertion_order = true');
  const options = format === 'parquet' ? "FORMAT parquet, ROW_GROUP_SIZE 1000000" : 'FORMAT csv, HEADER true';
  await connection.run(`COPY (${rowsSql(arg3)}) TO ${literal(arg4)} (${options})`);
  connection.closeSync();
  console.log(JSON.stringify({ seconds: (performance.now() - start) / 1000, bytes: statSync(arg4).size }));
} else if (mode === 'query') {
  const seconds = [];
  let rows = 0;
  let checksum = '';
  for (let run = 0; run < Number(arg4 ?? 3); run++) {
    const start = performance.now();
    const db = await DuckDBInstance.create(':memory:');
    const connection = await db.connect();
    const result = await connection.runAndReadAll(groupBy(reader(arg3)));
    const all = result.getRowsJS();
    seconds.push((performance.now() - start) / 1000);
    rows = all.length;
    // What the suite compares with our result: the first row's key and count, the sum of all counts.
    checksum = `${all[0][0]}:${all[0][1]}:${all.reduce((s, r) => s + Number(r[1]), 0)}`;
    connection.closeSync();
  }
  console.log(JSON.stringify({ seconds, rows, checksum }));
} else if (mode === 'sandbox') {
  // The statements src/Quilt.Tables/TableSandbox.cs sends for one table_query, in its order; a CSV view reads the file
  // with the options its stored sniff gives (sniffed here once, before the timed runs, as the server did on its first call).
  let view = `read_parquet([${literal(arg3)}], union_by_name = true)`;
  if (format === 'csv') {
    const db = await DuckDBInstance.create(':memory:');
    const connection = await db.connect();
    const prompt = (await connection.runAndReadAll(`SELECT Prompt FROM sniff_csv(${literal(arg3)})`)).getRowsJS()[0][0];
    view = prompt.replace(/^FROM /, '').replace(/;$/, ''); // read_csv('path', auto_detect=false, ...): the benchmark's header is plain
    connection.closeSync();
  }
  const sql = groupBy('t');
  const seconds = [];
  let rows = 0;
  let checksum = '';
  for (let run = 0; run < Number(arg4 ?? 3); run++) {
    const start = performance.now();
    const db = await DuckDBInstance.create(':memory:');
    const connection = await db.connect();
    for (const setting of ['SET autoinstall_known_extensions = false', 'SET autoload_known_extensions = false', "SET memory_limit = '1GB'",
      "SET temp_directory = ''", 'SET preserve_insertion_order = true']) {
      await connection.run(setting);
    }
    await connection.run(`CREATE VIEW t AS SELECT * FROM ${view}`);
    await connection.run(`SET allowed_paths = [${literal(arg3)}]`);
    await connection.run('SET enable_external_access = false');
    await connection.run('SET lock_configuration = true');
    await connection.runAndReadAll(`SELECT json_serialize_sql(${literal(sql)})`);
    await connection.runAndReadAll(`DESCRIBE (\n${sql}\n)`);
    await connection.run('BEGIN TRANSACTION READ ONLY');
    const result = await connection.streamAndReadAll(`SELECT COLUMNS(*)::VARCHAR FROM (\n${sql}\n) LIMIT 1001 OFFSET 0`);
    const all = result.getRowsJS();
    await connection.run('ROLLBACK');
    seconds.push((performance.now() - start) / 1000);
    rows = all.length;
    checksum = `${all[0][0]}:${all[0][1]}:${all.reduce((s, r) => s + Number(r[1]), 0)}`;
    connection.closeSync();
  }
  console.log(JSON.stringify({ seconds, rows, checksum }));
} else {
  console.error('usage: node peer.mjs generate parquet|csv ROWS PATH | query|sandbox parquet|csv PATH RUNS');
  process.exit(2);
}
