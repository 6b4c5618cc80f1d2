// Lua scripts ship next to the compiled JS: the script loader reads them at run time.
import { cpSync } from 'node:fs';
cpSync('src/lua', 'dist/lua', { recursive: true });
