/** Why a layer's contents cannot be shown, with the /api/v1 error code it answers. */
export class ContentError extends Error {
  constructor(
    readonly code: 'NOT_FOUND' | 'BAD_REQUEST' | 'TOO_LARGE',
    message: string,
  ) {
    super(message);
  }
}
