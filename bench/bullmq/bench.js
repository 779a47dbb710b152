// BullMQ baseline of bench/compare.sh: the same task count, producer count and worker concurrency
// as codeq-bench's sustained scenario, against the same Redis. Prints one RESULT line.
//
// Usage: node bench.js --port 6379 --tasks 20000 --producers 4 --workers 8
const { Queue, Worker, QueueEvents } = require('bullmq');

function arg(name, def) {
  const i = process.argv.indexOf('--' + name);
  return i > 0 ? process.argv[i + 1] : def;
}
const port = Number(arg('port', 6379));
const tasks = Number(arg('tasks', 20000));
const producers = Number(arg('producers', 4));
const workers = Number(arg('workers', 8));
const connection = { host: '127.0.0.1', port };
const name = 'codeq-bench-' + process.pid;

function pct(sorted, p) {
  if (sorted.length === 0) return 0;
  return sorted[Math.min(sorted.length - 1, Math.floor(p * sorted.length))];
}

async function main() {
  const queue = new Queue(name, { connection });
  await queue.waitUntilReady();
  const e2e = [];
  let completed = 0;
  let done;
  const finished = new Promise((resolve) => { done = resolve; });
  const t0 = process.hrtime.bigint();
  // One worker process with `workers` concurrency: BullMQ's own way of running N handlers.
  const worker = new Worker(name, async (job) => {
    return { ok: true };
  }, { connection, concurrency: workers, autorun: true });
  worker.on('completed', (job) => {
    e2e.push(Number(process.hrtime.bigint() - BigInt(job.data.t)) / 1e6);
    completed += 1;
    if (completed >= tasks) done();
  });
  let next = 0;
  let createdAt = 0n;
  async function producer() {
    for (;;) {
      const i = next++;
      if (i >= tasks) break;
      await queue.add('bench', { t: process.hrtime.bigint().toString(), i }, { removeOnComplete: true });
    }
  }
  await Promise.all(Array.from({ length: producers }, producer));
  createdAt = process.hrtime.bigint();
  await finished;
  const t1 = process.hrtime.bigint();
  const createSecs = Number(createdAt - t0) / 1e9;
  const totalSecs = Number(t1 - t0) / 1e9;
  e2e.sort((a, b) => a - b);
  console.log(`bullmq tasks=${tasks} producers=${producers} concurrency=${workers}`);
  console.log(`created: ${(tasks / createSecs).toFixed(0)}/s  cycles: ${(completed / totalSecs).toFixed(0)}/s`);
  console.log(`RESULT scenario=bullmq created_per_s=${(tasks / createSecs).toFixed(0)} ` +
              `cycles_per_s=${(completed / totalSecs).toFixed(0)} e2e_p50_ms=${pct(e2e, 0.5).toFixed(3)} ` +
              `e2e_p99_ms=${pct(e2e, 0.99).toFixed(3)}`);
  await worker.close();
  await queue.obliterate({ force: true }).catch(() => {});
  await queue.close();
}

main().catch((e) => { console.error(e); process.exit(1); });
