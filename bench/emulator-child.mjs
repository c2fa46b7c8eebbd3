// The vendor emulator in its own process, so that its CPU time is not measured as the client's.
// Driven over the IPC channel of child_process.fork: it sends { ready, urls, credentials } once,
// then answers { cmd: 'counters' } with the counters and { cmd: 'zero' } by zeroing them.
import { startEmulator } from '../tests/emulator/index.mjs';

const emu = await startEmulator({ tokenLifetimeSeconds: 3600 });
// The request log is for tests; a benchmark's hundreds of thousands of requests would only grow it.
const trim = setInterval(() => {
  emu.requests.length = 0;
}, 500);

const zero = (o) => {
  for (const k of Object.keys(o)) {
    if (typeof o[k] === 'number') o[k] = 0;
    else if (o[k] && typeof o[k] === 'object') zero(o[k]);
  }
};

process.on('message', async (m) => {
  if (m.cmd === 'counters') process.send({ id: m.id, counters: emu.counters });
  else if (m.cmd === 'zero') {
    zero(emu.counters);
    process.send({ id: m.id });
  } else if (m.cmd === 'close') {
    clearInterval(trim);
    await emu.close();
    process.send({ id: m.id });
    process.disconnect();
  }
});
process.on('disconnect', () => {
  clearInterval(trim);
  emu.close();
});
process.send({ ready: true, urls: emu.urls, credentials: emu.credentials });
