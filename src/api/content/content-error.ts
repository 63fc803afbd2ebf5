import { RegistryError } from '../../core/errors.js';

/**
 * Why an artifact's contents cannot be shown (not a tarball, past a limit, no such
 * file): a RegistryError of the API's codes, so the API answers it like any other,
 * and a class of its own, so a details page can leave out the part it spoils.
 */
export class ContentError extends RegistryError {
  constructor(code: 'NOT_FOUND' | 'BAD_REQUEST' | 'TOO_LARGE', message: string) {
    super(code, message);
    this.name = 'ContentError';
  }
}
