import { request } from 'node:https';
import { TLSSocket } from 'node:tls';

export { SelfSigned, selfSignedCertificate } from '../../tools/infra/self-signed-certificate';

/**
 * A GET over HTTPS to 127.0.0.1:`port`, trusting `ca` only (none: the
 * system's CAs), on a connection of its own: the status, the JSON body and
 * the CN of the certificate the server presented.
 */
export function httpsGet<Body = unknown>(
  port: number,
  path: string,
  options: { headers?: Record<string, string>; ca?: Buffer } = {},
): Promise<{ status: number; body: Body; peer: string }> {
  return new Promise((resolve, reject) => {
    const req = request({ host: '127.0.0.1', port, path, headers: options.headers, ca: options.ca, agent: false }, (res) => {
      const peer = String((res.socket as TLSSocket).getPeerCertificate().subject.CN);
      let text = '';
      res.on('data', (chunk: Buffer) => (text += chunk.toString()));
      res.on('end', () => resolve({ status: res.statusCode!, body: JSON.parse(text) as Body, peer }));
    });
    req.on('error', reject);
    req.end();
  });
}
