/* global jest */
// Process-level proofs start an API and workers per test: allow them two minutes.
jest.setTimeout(120000);
