/** One jest run for the whole workspace; each package with a jest.config.js is a project. */
const { existsSync, readdirSync } = require('node:fs');
const projects = ['packages', 'apps'].flatMap((dir) =>
  existsSync(dir)
    ? readdirSync(dir)
        .map((name) => `<rootDir>/${dir}/${name}/jest.config.js`)
        .filter((p) => existsSync(p.replace('<rootDir>', __dirname)))
    : [],
);
// testTimeout is a global option: per-project values are ignored when jest runs from the root.
module.exports = { projects, testTimeout: 120000 };
