// Invalid: a bad name, no handler, a schema that is not zod.
module.exports.tools = [
  { name: 'bad name', description: 'x', schema: {}, handler: async () => '' },
  { name: 'nohandler', description: 'x', schema: require('zod').z.object({}) },
];
