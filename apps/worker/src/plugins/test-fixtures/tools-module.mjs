// A TOOLS_MODULE as an ES module (loaded by require(esm), Node >= 22.12).
import { z } from 'zod';

export default [
  {
    name: 'reverse',
    description: 'Reverses a text',
    group: 'read',
    schema: z.object({ text: z.string() }),
    handler: async ({ text }) => [...text].reverse().join(''),
  },
];
