/**
 * What to run and against what: the settings the Go suite reads from OCI_*
 * environment variables (setup.go's init), as an object, plus the reading of
 * those variables.
 */

export type Workflow = 'pull' | 'push' | 'contentDiscovery' | 'contentManagement';
export const WORKFLOWS: readonly Workflow[] = ['pull', 'push', 'contentDiscovery', 'contentManagement'];

export interface ConformanceOptions {
  /** Repository the specs use (OCI_NAMESPACE), e.g. "myorg/myrepo". */
  namespace: string;
  /** Repository blobs are mounted into (OCI_CROSSMOUNT_NAMESPACE); default conformance-<uuid>. */
  crossmountNamespace?: string;
  /** OCI_USERNAME / OCI_PASSWORD (a password or a personal access token). */
  username?: string;
  password?: string;
  /** OCI_AUTH_SCOPE: scope asked for when fetching Bearer tokens. */
  authScope?: string;
  /** OCI_TEST_PULL/PUSH/CONTENT_DISCOVERY/CONTENT_MANAGEMENT; default: all four. */
  workflows?: Partial<Record<Workflow, boolean>>;
  /** OCI_TAG_NAME, OCI_MANIFEST_DIGEST, OCI_BLOB_DIGEST: with all three, pull uses existing content and pushes nothing. */
  tagName?: string;
  manifestDigest?: string;
  blobDigest?: string;
  /** OCI_TAG_LIST (comma-separated): content discovery lists existing tags instead of pushing some. */
  tagList?: string[];
  /** OCI_DELETE_MANIFEST_BEFORE_BLOBS (default true): teardown order. */
  deleteManifestBeforeBlobs?: boolean;
  /** OCI_AUTOMATIC_CROSSMOUNT: unset runs neither automatic-mount spec; true/false expects 201/202. */
  automaticCrossmount?: boolean;
  /** OCI_DEBUG: a line per request and response. */
  debug?: (line: string) => void;
}

/** Go's strconv.ParseBool; undefined for anything else. */
export function parseBool(v: string | undefined): boolean | undefined {
  if (v === undefined) return undefined;
  if (['1', 't', 'T', 'TRUE', 'true', 'True'].includes(v)) return true;
  if (['0', 'f', 'F', 'FALSE', 'false', 'False'].includes(v)) return false;
  return undefined;
}

/** The registry URL and options exactly as the Go suite reads them from the environment. */
export function optionsFromEnv(env: NodeJS.ProcessEnv = process.env): { rootUrl: string; options: ConformanceOptions } {
  const rootUrl = env.OCI_ROOT_URL ?? '';
  if (!rootUrl) throw new Error('OCI_ROOT_URL is not set');
  const toggles: Record<Workflow, string> = {
    pull: 'OCI_TEST_PULL',
    push: 'OCI_TEST_PUSH',
    contentDiscovery: 'OCI_TEST_CONTENT_DISCOVERY',
    contentManagement: 'OCI_TEST_CONTENT_MANAGEMENT',
  };
  const workflows: Partial<Record<Workflow, boolean>> = {};
  for (const w of WORKFLOWS) workflows[w] = parseBool(env[toggles[w]]) === true;
  const options: ConformanceOptions = {
    namespace: env.OCI_NAMESPACE ?? '',
    workflows,
    deleteManifestBeforeBlobs:
      'OCI_DELETE_MANIFEST_BEFORE_BLOBS' in env ? parseBool(env.OCI_DELETE_MANIFEST_BEFORE_BLOBS) === true : true,
  };
  if (env.OCI_CROSSMOUNT_NAMESPACE) options.crossmountNamespace = env.OCI_CROSSMOUNT_NAMESPACE;
  if (env.OCI_USERNAME) options.username = env.OCI_USERNAME;
  if (env.OCI_PASSWORD) options.password = env.OCI_PASSWORD;
  if (env.OCI_AUTH_SCOPE) options.authScope = env.OCI_AUTH_SCOPE;
  if (env.OCI_TAG_NAME) options.tagName = env.OCI_TAG_NAME;
  if (env.OCI_MANIFEST_DIGEST) options.manifestDigest = env.OCI_MANIFEST_DIGEST;
  if (env.OCI_BLOB_DIGEST) options.blobDigest = env.OCI_BLOB_DIGEST;
  if (env.OCI_TAG_LIST) options.tagList = env.OCI_TAG_LIST.split(',');
  // Set means "run the automatic-mount spec"; its value says which answer to expect.
  if ('OCI_AUTOMATIC_CROSSMOUNT' in env) options.automaticCrossmount = parseBool(env.OCI_AUTOMATIC_CROSSMOUNT) === true;
  if (parseBool(env.OCI_DEBUG) === true) options.debug = (line) => process.stderr.write(`${line}\n`);
  return { rootUrl, options };
}
