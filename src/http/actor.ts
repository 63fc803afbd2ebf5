import type { EventActor } from '../core/events.js';
import type { RequestContext } from './context.js';

/** Who made this request and how (for the events it records); never credentials. */
export function actorOf(ctx: Pick<RequestContext, 'req' | 'res' | 'principal'>): EventActor {
  const { req, res } = ctx;
  const user = ctx.principal();
  const port = req.socket.remotePort;
  return {
    ...(user !== undefined ? { user } : {}),
    request: {
      id: String(res.getHeader('X-Request-Id') ?? ''),
      addr: `${req.socket.remoteAddress ?? ''}${port !== undefined ? `:${port}` : ''}`,
      host: req.headers.host ?? '',
      method: req.method ?? '',
      userAgent: req.headers['user-agent'] ?? '',
    },
  };
}
