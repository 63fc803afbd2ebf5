/** The bench's own S3 client (seeding Distribution's layout, cleaning up), set up as Stowage's is for radosgw. */
import http from 'node:http';
import { S3Client } from '@aws-sdk/client-s3';

export interface S3Settings {
  endpoint: string;
  region: string;
  bucket: string;
  accessKeyId: string;
  secretAccessKey: string;
}

export function s3Client(s: S3Settings, maxSockets: number): S3Client {
  return new S3Client({
    endpoint: s.endpoint,
    region: s.region,
    forcePathStyle: true,
    credentials: { accessKeyId: s.accessKeyId, secretAccessKey: s.secretAccessKey },
    // radosgw 16 answers streamed checksummed uploads with 411 (see scripts/services/rgw.sh).
    requestChecksumCalculation: 'WHEN_REQUIRED',
    responseChecksumValidation: 'WHEN_REQUIRED',
    requestHandler: { httpAgent: new http.Agent({ keepAlive: true, maxSockets }) },
  });
}
