// A TOOLS_MODULE as a user would mount it: CommonJS, tools in the built-ins' shape.
const { z } = require('zod');

module.exports = {
  tools: [
    {
      name: 'shout',
      description: 'Upper-cases a text',
      group: 'read',
      schema: z.object({ text: z.string() }),
      handler: async ({ text }) => text.toUpperCase(),
    },
  ],
};
