// Exit 0 when a Redis answers PING at the given URL (no dependencies: raw RESP over TCP).
import net from 'node:net';
const url = new URL(process.argv[2] ?? 'redis://127.0.0.1:6379');
const socket = net.connect({ host: url.hostname, port: Number(url.port || 6379) });
const fail = () => process.exit(1);
socket.setTimeout(1000, fail);
socket.on('error', fail);
socket.on('connect', () => socket.write('*1\r\n$4\r\nPING\r\n'));
socket.on('data', (d) => {
  const ok = d.toString().startsWith('+PONG') || d.toString().startsWith('-NOAUTH');
  socket.destroy();
  process.exit(ok ? 0 : 1);
});
