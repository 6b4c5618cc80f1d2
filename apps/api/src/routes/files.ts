import { createReadStream } from 'node:fs';
import { stat } from 'node:fs/promises';
import { Workspace, type Engine } from '@baton/core';
import { validatorCompiler, type FastifyPluginAsyncZod } from 'fastify-type-provider-zod';
import { z } from 'zod';
import type { FilesConfig } from '../env';
import { ApiError, ProblemSchema } from '../http/error-catalog';
import { SessionParamsSchema } from '../http/schemas';
import { contentTypeOf } from '../workspace/content-type';
import { FilesUploadSchema, writeJsonEntries } from '../workspace/json-upload';
import { FileListingSchema, listTree } from '../workspace/listing';
import { extractTarGz } from '../workspace/tar-upload';
import { resolveEntry, type PlannedEntry } from '../workspace/upload-limits';

/** Content types of a tar.gz upload (anything else but JSON is 415). */
export const TAR_GZ_TYPES = ['application/gzip', 'application/x-gzip', 'application/x-tar+gzip'];

const security = [{ bearer: [] }];
const problems = { 400: ProblemSchema, 401: ProblemSchema, 404: ProblemSchema, 429: ProblemSchema, 503: ProblemSchema };

export const UploadResultSchema = z
  .object({
    sessionId: z.string(),
    files: z.array(z.object({ path: z.string(), size: z.number().int() })).describe('Files written, in upload order (folders are not listed)'),
  })
  .meta({ id: 'FilesUploaded' });

const FileParamsSchema = SessionParamsSchema.extend({ '*': z.string().max(4096) });

/**
 * A session's workspace as the caller may see it. The folder is per tenant
 * (`<root>/<tenant>/<session>`) so no tenant reaches another's files; a
 * session that exists and belongs to another tenant is still 404, as on
 * every session route. A session nobody submitted to yet may be seeded: that
 * is how files are in place before the first task.
 */
async function workspaceOf(engine: Engine, root: string, sessionId: string, tenant: string): Promise<Workspace> {
  const session = await engine.getSession(sessionId);
  if (session.tenant !== null && session.tenant !== tenant) throw new ApiError('SESSION_NOT_FOUND', `session ${sessionId} not found`);
  return Workspace.of(root, tenant, sessionId);
}

async function exists(path: string): Promise<boolean> {
  return stat(path).then(
    () => true,
    () => false,
  );
}

/** A file that cannot be written where a folder is (or the reverse) is the upload's fault: 422 naming it. */
function writeConflict(err: unknown): unknown {
  const code = (err as NodeJS.ErrnoException).code;
  if (code === 'EISDIR' || code === 'ENOTDIR' || code === 'EEXIST') {
    return new ApiError('WORKSPACE_PATH', `an entry could not be written: a file and a folder share a path (${(err as Error).message})`);
  }
  return err;
}

const fileRoutes: FastifyPluginAsyncZod<{ files: FilesConfig }> = async (app, { files: config }) => {
  // Scoped to this plugin: only the upload route takes a tar.gz body.
  app.addContentTypeParser(TAR_GZ_TYPES, { parseAs: 'buffer' }, (_request, body, done) => done(null, body));
  const limits = { maxExtractedBytes: config.maxExtractedBytes, maxEntries: config.maxEntries };

  app.post(
    '/sessions/:sessionId/files',
    {
      bodyLimit: config.maxBytes,
      schema: {
        tags: ['files'],
        summary: "Seed a session's workspace: a tar.gz, or JSON file entries",
        description:
          'Content-Type `application/gzip` (or `application/x-gzip`, `application/x-tar+gzip`): a tar.gz extracted into the workspace ' +
          '(regular files and folders only). Content-Type `application/json`: `{"files": [{"path", "content", "encoding"?: "utf8"|"base64"}]}` or the bare array. ' +
          'Every path is checked before anything is written: one absolute path, `..`, symlink, hard link or device entry refuses the whole upload (422 naming it). ' +
          'Bounded by FILES_MAX_BYTES (body), FILES_MAX_EXTRACTED_BYTES and FILES_MAX_ENTRIES (413). Existing files are overwritten. ' +
          'Works before the first task of the session (the workspace is `<WORKSPACE_ROOT>/<tenant>/<session>`).',
        security,
        params: SessionParamsSchema,
        body: FilesUploadSchema.optional().describe('JSON entries, or a tar.gz body with a gzip content type'),
        response: { 201: UploadResultSchema, ...problems, 413: ProblemSchema, 415: ProblemSchema, 422: ProblemSchema },
      },
      // The body is a Buffer for tar.gz uploads: validated by the handler (writeJsonEntries parses JSON with the same schema).
      validatorCompiler: (route) =>
        route.httpPart === 'body' ? (data: unknown) => ({ value: data }) : validatorCompiler(route as unknown as Parameters<typeof validatorCompiler>[0]),
    },
    async (request, reply) => {
      const { sessionId } = request.params;
      const workspace = await workspaceOf(app.engine, config.workspaceRoot, sessionId, request.tenant);
      const body: unknown = request.body;
      let written: PlannedEntry[];
      try {
        written = Buffer.isBuffer(body) ? await extractTarGz(workspace, body, limits) : await writeJsonEntries(workspace, body, limits);
      } catch (err) {
        throw writeConflict(err);
      }
      const files = written.filter((e) => e.kind === 'file').map(({ path, size }) => ({ path, size }));
      request.log.info({ sessionId, files: files.length, bytes: files.reduce((n, f) => n + f.size, 0) }, 'workspace seeded');
      return reply.code(201).send({ sessionId, files });
    },
  );

  app.get(
    '/sessions/:sessionId/files',
    {
      schema: {
        tags: ['files'],
        summary: "List a session's workspace (recursive, relative paths, capped at FILES_LIST_MAX)",
        security,
        params: SessionParamsSchema,
        response: { 200: FileListingSchema, ...problems },
      },
    },
    async (request) => {
      const workspace = await workspaceOf(app.engine, config.workspaceRoot, request.params.sessionId, request.tenant);
      // Nothing seeded or written yet: an empty workspace (and no folder created by a read).
      if (!(await exists(workspace.dir))) return { files: [], truncated: false };
      const root = await workspace.ensure();
      return listTree(root, root, config.listMax);
    },
  );

  app.get(
    '/sessions/:sessionId/files/*',
    {
      schema: {
        tags: ['files'],
        summary: 'Read one workspace file (raw bytes), or list a folder',
        description:
          'A file is sent as is, with a content type guessed from its extension (else `application/octet-stream`) and a sandboxing ' +
          'Content-Security-Policy. A folder answers its listing (as `GET .../files`, paths relative to the workspace); the `Baton-File-Type` header says which (`file` or `directory`). 404 when missing, 422 for a path that leaves the workspace.',
        security,
        params: FileParamsSchema,
        response: { 200: z.unknown().describe("The file's bytes, or a FileListing for a folder"), ...problems, 422: ProblemSchema },
      },
    },
    async (request, reply) => {
      const { sessionId } = request.params;
      const path = request.params['*'];
      const workspace = await workspaceOf(app.engine, config.workspaceRoot, sessionId, request.tenant);
      const notFound = () => new ApiError('FILE_NOT_FOUND', `no file ${JSON.stringify(path)} in the workspace of session ${sessionId}`, { path });
      if (!(await exists(workspace.dir))) {
        if (path === '' || path === '.') return reply.header('baton-file-type', 'directory').send({ files: [], truncated: false });
        throw notFound();
      }
      const abs = path === '' || path === '.' ? await workspace.ensure() : await resolveEntry(workspace, path);
      const stats = await stat(abs).catch(() => null);
      if (!stats) throw notFound();
      // The header tells a listing from a JSON file of the same content type.
      if (stats.isDirectory()) return reply.header('baton-file-type', 'directory').send(await listTree(await workspace.ensure(), abs, config.listMax));
      if (!stats.isFile()) throw notFound();
      // Files are whatever a model or a user wrote: never run as a page of the API's origin.
      return reply
        .type(contentTypeOf(abs))
        .header('content-length', stats.size)
        .header('baton-file-type', 'file')
        .header('content-security-policy', "default-src 'none'; sandbox")
        .header('x-content-type-options', 'nosniff')
        .send(createReadStream(abs));
    },
  );
};

export default fileRoutes;
