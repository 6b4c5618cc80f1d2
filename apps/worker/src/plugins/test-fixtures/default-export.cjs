// `export default [...]` compiled to CommonJS.
const { z } = require('zod');

module.exports.default = [{ name: 'ping', description: 'Answers pong', schema: z.object({}), handler: async () => 'pong' }];
