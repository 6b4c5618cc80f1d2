/** A real workspace under os.tmpdir() and a way to call a tool as the runner does (schema, then handler). */
import { Workspace } from '@baton/core';
import { mkdtempSync, rmSync } from 'node:fs';
import { mkdir, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { dirname, join } from 'node:path';
import pino from 'pino';
import type { ToolContext, ToolDefinition } from '../tools/tool-registry';

export interface WorkspaceFixture {
  /** WORKSPACE_ROOT of the test. */
  root: string;
  workspace: Workspace;
  /** Absolute path of a workspace-relative path (no checks: for test setup only). */
  abs(path: string): string;
  write(path: string, content: string | Buffer): Promise<void>;
  call(tool: ToolDefinition, args: unknown, signal?: AbortSignal): Promise<string>;
  cleanup(): void;
}

export function workspaceFixture(): WorkspaceFixture {
  const root = mkdtempSync(join(tmpdir(), 'baton-ws-'));
  const workspace = Workspace.of(root, 'tenant1', 'session1');
  const abs = (path: string) => join(workspace.dir, path);
  return {
    root,
    workspace,
    abs,
    async write(path, content) {
      await mkdir(dirname(abs(path)), { recursive: true });
      await writeFile(abs(path), content);
    },
    async call(tool, args, signal = new AbortController().signal) {
      const parsed = tool.schema.parse(args);
      const ctx = { signal, workspace, logger: pino({ level: 'silent' }), turn: 1, toolCallId: 'call_1' } as unknown as ToolContext;
      const result = await tool.handler!(parsed, ctx);
      return typeof result === 'string' ? result : JSON.stringify(result);
    },
    cleanup() {
      rmSync(root, { recursive: true, force: true });
    },
  };
}
