// Just enough S3 for the end-to-end tests: create a bucket with a SigV4-signed request (path-style), so the
// tests need no AWS SDK. Credentials come from the environment the S3 test server prints.
import { createHash, createHmac } from "node:crypto";

const sha256 = (data) => createHash("sha256").update(data).digest("hex");
const hmac = (key, data) => createHmac("sha256", key).update(data).digest();

export function s3Settings() {
  const endpoint = process.env.QUILT_TEST_S3_ENDPOINT;
  if (!endpoint) return null;
  return {
    endpoint,
    accessKey: process.env.AWS_ACCESS_KEY_ID ?? "TESTKEY",
    secretKey: process.env.AWS_SECRET_ACCESS_KEY ?? "TESTSECRET",
    region: process.env.AWS_REGION ?? "us-east-1",
  };
}

export async function createBucket(s3, bucket) {
  const url = new URL(`/${bucket}`, s3.endpoint);
  const amzDate = new Date().toISOString().replace(/[-:]/g, "").replace(/\.\d{3}/, "");
  const day = amzDate.slice(0, 8);
  const payloadHash = sha256("");
  const headers = { host: url.host, "x-amz-content-sha256": payloadHash, "x-amz-date": amzDate };
  const signedHeaders = Object.keys(headers).sort().join(";");
  const canonical = ["PUT", url.pathname, "", ...Object.keys(headers).sort().map((h) => `${h}:${headers[h]}`), "", signedHeaders, payloadHash].join("\n");
  const scope = `${day}/${s3.region}/s3/aws4_request`;
  const toSign = ["AWS4-HMAC-SHA256", amzDate, scope, sha256(canonical)].join("\n");
  let key = hmac(`AWS4${s3.secretKey}`, day);
  for (const part of [s3.region, "s3", "aws4_request"]) key = hmac(key, part);
  const signature = createHmac("sha256", key).update(toSign).digest("hex");
  const response = await fetch(url, {
    method: "PUT",
    headers: {
      "x-amz-content-sha256": payloadHash,
      "x-amz-date": amzDate,
      authorization: `AWS4-HMAC-SHA256 Credential=${s3.accessKey}/${scope}, SignedHeaders=${signedHeaders}, Signature=${signature}`,
    },
  });
  if (!response.ok) throw new Error(`creating bucket ${bucket} failed: ${response.status} ${await response.text()}`);
}
