/**
 * JSON Schemas (draft 2020-12) of the event-type catalog, through Ajv's 2020 build. A schema is
 * compiled once per catalog version of its tenant, when an event of its type is first published,
 * never per event.
 *
 * Hazards: a schema is tenant input compiled to code. Ajv generates that code from escaped values
 * (it is built for untrusted schemas), remote `$ref`s are never fetched (an unresolved one makes the
 * schema invalid), and each schema gets an Ajv instance of its own, so `$id`s of different tenants or
 * types never meet. A `pattern` is still a regular expression of the tenant's, run on its own data.
 */
import { Ajv2020, type ErrorObject, type ValidateFunction } from 'ajv/dist/2020';

/** Largest schema, as JSON text. */
export const MAX_SCHEMA_BYTES = 64 * 1024;

function newAjv(): Ajv2020 {
  // `format` is an annotation in 2020-12 (no format vocabulary is asserted); unknown keywords (`x-…`)
  // are allowed, as the spec allows them; nothing is printed.
  return new Ajv2020({ strict: false, validateFormats: false, allErrors: false, logger: false });
}

/** Problems of `schema` as a JSON Schema (draft 2020-12), with paths under `prefix`; empty when valid. */
export function schemaProblems(schema: unknown, prefix: string): { path: string; message: string }[] {
  if (typeof schema !== 'object' || schema === null || Array.isArray(schema)) {
    if (typeof schema === 'boolean') return [];
    return [{ path: prefix, message: 'must be a JSON Schema (an object or a boolean) or null' }];
  }
  if (Buffer.byteLength(JSON.stringify(schema), 'utf8') > MAX_SCHEMA_BYTES) {
    return [{ path: prefix, message: `must be at most ${MAX_SCHEMA_BYTES} bytes as JSON` }];
  }
  const ajv = newAjv();
  if (!ajv.validateSchema(schema)) {
    return (ajv.errors ?? []).map((e) => ({
      path: joinPath(prefix, pointerSegments(e.instancePath)),
      message: e.message ?? 'is not valid',
    }));
  }
  try {
    ajv.compile(schema);
  } catch (err) {
    return [{ path: prefix, message: err instanceof Error ? err.message : 'cannot be compiled' }];
  }
  return [];
}

/** A compiled schema: the problems of `data`, with paths under `prefix` (`data`, `events.2.data`). */
export type DataCheck = (data: unknown, prefix: string) => { path: string; message: string }[];

/** Compiles a stored schema (valid when it was stored). */
export function compileDataCheck(schema: unknown): DataCheck {
  const validate: ValidateFunction = newAjv().compile(schema as object | boolean);
  return (data, prefix) => {
    if (validate(data)) return [];
    return (validate.errors ?? []).map((e) => ({ path: errorPath(prefix, e), message: errorMessage(e) }));
  };
}

function errorPath(prefix: string, e: ErrorObject): string {
  const segments = pointerSegments(e.instancePath);
  // A missing property is named by its own path, not its parent's.
  const missing = (e.params as { missingProperty?: unknown }).missingProperty;
  if (e.keyword === 'required' && typeof missing === 'string') segments.push(missing);
  return joinPath(prefix, segments);
}

function errorMessage(e: ErrorObject): string {
  if (e.keyword === 'required') return 'is required by the schema of this event type';
  return e.message ?? 'does not match the schema of this event type';
}

/** `/a/b~1c` → ['a', 'b/c'] (RFC 6901). */
function pointerSegments(pointer: string): string[] {
  if (pointer === '') return [];
  return pointer
    .slice(1)
    .split('/')
    .map((s) => s.replace(/~1/g, '/').replace(/~0/g, '~'));
}

function joinPath(prefix: string, segments: string[]): string {
  return [prefix, ...segments].filter((s) => s !== '').join('.');
}
