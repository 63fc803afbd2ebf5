import type { ArtifactKind } from '../core/artifact-kind.js';

export interface PullCommand {
  tool: 'docker' | 'helm' | 'flux' | 'oras' | 'stowage';
  command: string;
}

/**
 * The copy-paste commands that fetch `repository:tag` from `host`, for what it is
 * (pure). Helm names versions with `+`, which OCI tags cannot hold: Helm pushes
 * `_` and reads it back as `+`.
 */
export function pullCommands(kind: ArtifactKind, host: string, repository: string, tag: string): PullCommand[] {
  const ref = `${host}/${repository}:${tag}`;
  const last = repository.slice(repository.lastIndexOf('/') + 1);
  switch (kind) {
    case 'image':
    case 'index':
      return [
        { tool: 'docker', command: `docker pull ${ref}` },
        { tool: 'stowage', command: `stowage image pull ${ref} ${last}.tar` },
      ];
    case 'helm-chart': {
      const version = tag.replaceAll('_', '+');
      return [
        { tool: 'helm', command: `helm pull oci://${host}/${repository} --version ${version}` },
        { tool: 'stowage', command: `stowage chart pull oci://${host}/${repository} --version ${version}` },
      ];
    }
    case 'flux-artifact':
      return [
        { tool: 'flux', command: `flux pull artifact oci://${ref} --output ./${last}` },
        { tool: 'stowage', command: `stowage artifact pull oci://${ref} --output ./${last}` },
      ];
    case 'opa-bundle':
      return [
        { tool: 'oras', command: `oras pull ${ref}` },
        { tool: 'stowage', command: `stowage policy pull oci://${ref} --output ./${last}` },
      ];
    default:
      return [
        { tool: 'oras', command: `oras pull ${ref}` },
        { tool: 'stowage', command: `stowage inspect ${ref}` },
      ];
  }
}
