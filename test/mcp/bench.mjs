// bench.mjs: tool calls per second and latency percentiles through the MCP
// TypeScript SDK (Client + StdioClientTransport) against alfred-mcp, one
// call at a time, as an LLM client makes them.  Used by bench/mcp.sh.
//
//   node bench.mjs TOOL SECONDS     (ALFRED_MCP, ALFRED_CONNINFO, ALFRED_TOKEN set)
// prints: calls calls_per_s p50_ms p99_ms
import { Client } from '@modelcontextprotocol/sdk/client/index.js';
import { StdioClientTransport } from '@modelcontextprotocol/sdk/client/stdio.js';

const [tool, seconds] = [process.argv[2], Number(process.argv[3] || 10)];
const transport = new StdioClientTransport({
  command: process.env.ALFRED_MCP,
  env: { ALFRED_CONNINFO: process.env.ALFRED_CONNINFO, ALFRED_TOKEN: process.env.ALFRED_TOKEN },
  stderr: 'ignore',
});
const client = new Client({ name: 'bench', version: '1.0.0' });
await client.connect(transport);
for (let i = 0; i < 50; i++) await client.callTool({ name: tool, arguments: {} });	// warm-up
const lat = [];
const t0 = process.hrtime.bigint();
const end = t0 + BigInt(seconds * 1e9);
for (;;) {
  const a = process.hrtime.bigint();
  const r = await client.callTool({ name: tool, arguments: {} });
  const b = process.hrtime.bigint();
  if (r.isError) throw new Error(r.content[0].text);
  lat.push(Number(b - a) / 1e6);
  if (b >= end) break;
}
const total = Number(process.hrtime.bigint() - t0) / 1e9;
lat.sort((x, y) => x - y);
const pct = (p) => lat[Math.min(lat.length - 1, Math.floor(lat.length * p))];
console.log(`${lat.length} ${(lat.length / total).toFixed(1)} ${pct(0.5).toFixed(2)} ${pct(0.99).toFixed(2)}`);
await client.close();
