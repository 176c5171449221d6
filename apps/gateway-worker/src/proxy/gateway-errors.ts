import type { ServerResponse } from '../http/http-server';

/** A response the gateway gives itself (DESIGN.md section 8): a status, a stable code, a message for humans. */
export interface GatewayRefusal {
  refused: true;
  status: number;
  code: string;
  message: string;
  headers?: Record<string, string>;
}

export function refuse(status: number, code: string, message: string, headers?: Record<string, string>): GatewayRefusal {
  return { refused: true, status, code, message, ...(headers ? { headers } : {}) };
}

export function isRefusal(value: object): value is GatewayRefusal {
  return (value as GatewayRefusal).refused === true;
}

/** Writes `{ "error": CODE, "message": ... }` with the refusal's status and headers. */
export function sendRefusal(res: ServerResponse, refusal: GatewayRefusal, extraHeaders: Record<string, string> = {}): void {
  const body = JSON.stringify({ error: refusal.code, message: refusal.message });
  res.send(
    refusal.status,
    { ...extraHeaders, ...refusal.headers, 'content-type': 'application/json; charset=utf-8', 'cache-control': 'no-store' },
    body,
  );
}
