/**
 * The real servers behind the remote-destination tests: OpenSSH sshd for the NAS and Ceph
 * radosgw for S3, started by scripts/test (scripts/services/*), found through the environment.
 *
 * @module
 */
import {
  AbortMultipartUploadCommand,
  CreateBucketCommand,
  DeleteBucketCommand,
  DeleteObjectCommand,
  GetObjectCommand,
  ListMultipartUploadsCommand,
  ListObjectsV2Command,
  PutObjectCommand,
  S3Client,
} from "@aws-sdk/client-s3";
import type { S3Config, SynologyConfig } from "../src/config/types.ts";

export interface Servers {
  sshdDir: string;
  sshdPort: number;
  s3Endpoint: string;
  s3AccessKeyId: string;
  s3SecretAccessKey: string;
}

export function servers(): Servers {
  const need = (name: string) => {
    const value = Deno.env.get(name);
    if (!value) {
      throw new Error(
        `${name} is not set: run the tests through scripts/test, which starts sshd and radosgw`,
      );
    }
    return value;
  };
  return {
    sshdDir: need("SSHD_DIR"),
    sshdPort: Number(need("SSHD_PORT")),
    s3Endpoint: need("S3_ENDPOINT"),
    s3AccessKeyId: need("S3_ACCESS_KEY_ID"),
    s3SecretAccessKey: need("S3_SECRET_ACCESS_KEY"),
  };
}

export function s3Client(s: Servers): S3Client {
  return new S3Client({
    region: "us-east-1",
    endpoint: s.s3Endpoint,
    forcePathStyle: true,
    credentials: { accessKeyId: s.s3AccessKeyId, secretAccessKey: s.s3SecretAccessKey },
    requestChecksumCalculation: "WHEN_REQUIRED",
    responseChecksumValidation: "WHEN_REQUIRED",
  });
}

/** A fresh bucket, emptied (objects and unfinished uploads) and deleted when disposed. */
export async function tempBucket(client: S3Client): Promise<AsyncDisposable & { name: string }> {
  const name = `packrat-test-${crypto.randomUUID().slice(0, 8)}`;
  await client.send(new CreateBucketCommand({ Bucket: name }));
  return {
    name,
    async [Symbol.asyncDispose]() {
      for (const key of await listKeys(client, name)) {
        await client.send(new DeleteObjectCommand({ Bucket: name, Key: key }));
      }
      const open = await client.send(new ListMultipartUploadsCommand({ Bucket: name }));
      for (const { Key, UploadId } of open.Uploads ?? []) {
        await client.send(new AbortMultipartUploadCommand({ Bucket: name, Key, UploadId }));
      }
      await client.send(new DeleteBucketCommand({ Bucket: name })).catch(() => {});
    },
  };
}

export async function listKeys(client: S3Client, bucket: string, prefix = ""): Promise<string[]> {
  const keys: string[] = [];
  let token: string | undefined;
  do {
    const page = await client.send(
      new ListObjectsV2Command({ Bucket: bucket, Prefix: prefix, ContinuationToken: token }),
    );
    keys.push(...(page.Contents ?? []).map((o) => o.Key!));
    token = page.IsTruncated ? page.NextContinuationToken : undefined;
  } while (token);
  return keys.sort();
}

export async function multipartUploads(client: S3Client, bucket: string): Promise<number> {
  const result = await client.send(new ListMultipartUploadsCommand({ Bucket: bucket }));
  return result.Uploads?.length ?? 0;
}

/** The keys of the bucket's multipart uploads not yet completed or aborted, sorted. */
export async function openUploads(client: S3Client, bucket: string): Promise<string[]> {
  const result = await client.send(new ListMultipartUploadsCommand({ Bucket: bucket }));
  return (result.Uploads ?? []).map((u) => u.Key!).sort();
}

export async function putObject(client: S3Client, bucket: string, key: string, body: string) {
  await client.send(new PutObjectCommand({ Bucket: bucket, Key: key, Body: body }));
}

/** Flips one byte in the middle of an object (a copy gone bad on the server). */
export async function flipObjectByte(client: S3Client, bucket: string, key: string): Promise<void> {
  const object = await client.send(new GetObjectCommand({ Bucket: bucket, Key: key }));
  const bytes = await object.Body!.transformToByteArray();
  bytes[Math.floor(bytes.length / 2)] ^= 0xff;
  await client.send(new PutObjectCommand({ Bucket: bucket, Key: key, Body: bytes }));
}

/** An object's bytes. */
export async function objectBytes(
  client: S3Client,
  bucket: string,
  key: string,
): Promise<Uint8Array> {
  const object = await client.send(new GetObjectCommand({ Bucket: bucket, Key: key }));
  return await object.Body!.transformToByteArray();
}

/** A directory under root's home, i.e. the SFTP login directory; removed when disposed. */
export async function nasDir(): Promise<AsyncDisposable & { relative: string; absolute: string }> {
  const relative = `packrat-nas-${crypto.randomUUID().slice(0, 8)}`;
  const absolute = `${Deno.env.get("HOME") ?? "/root"}/${relative}`;
  await Deno.mkdir(absolute);
  return {
    relative,
    absolute,
    async [Symbol.asyncDispose]() {
      await Deno.remove(absolute, { recursive: true }).catch(() => {});
    },
  };
}

/** The backup config's `s3` and `synology` sections for these servers. */
export function remoteBackupConfig(
  s: Servers,
  bucket: string,
  nasPath: string,
  overrides: { s3?: Record<string, unknown>; synology?: Record<string, unknown> } = {},
): Record<string, unknown> {
  return {
    s3: {
      endpoint: s.s3Endpoint,
      region: "us-east-1",
      bucket,
      access_key_id: s.s3AccessKeyId,
      secret_access_key: s.s3SecretAccessKey,
      path: "packrat/",
      ...overrides.s3,
    },
    synology: {
      host: "127.0.0.1",
      port: s.sshdPort,
      username: "root",
      key_file: `${s.sshdDir}/client_ed25519`,
      known_hosts: `${s.sshdDir}/known_hosts`,
      path: nasPath,
      ...overrides.synology,
    },
  };
}

/** The synology section alone, for configs where the NAS is the only remote destination. */
export function synologyBackupConfig(
  s: Servers,
  nasPath: string,
  overrides: Record<string, unknown> = {},
): Record<string, unknown> {
  return remoteBackupConfig(s, "unused", nasPath, { synology: overrides }).synology as Record<
    string,
    unknown
  >;
}

/** The S3 config for constructing an S3Destination directly. */
export function s3DestinationConfig(s: Servers, bucket: string, path = "packrat/"): S3Config {
  return {
    endpoint: s.s3Endpoint,
    region: "us-east-1",
    bucket,
    accessKeyId: { kind: "inline", value: s.s3AccessKeyId, key: "access_key_id" },
    secretAccessKey: { kind: "inline", value: s.s3SecretAccessKey, key: "secret_access_key" },
    path,
  };
}

/** The SFTP config for constructing an SftpDestination directly. */
export function synologyDestinationConfig(s: Servers, nasPath: string): SynologyConfig {
  return {
    host: "127.0.0.1",
    port: s.sshdPort,
    username: "root",
    keyFile: `${s.sshdDir}/client_ed25519`,
    knownHosts: `${s.sshdDir}/known_hosts`,
    path: nasPath,
  };
}

/**
 * A known_hosts line for the test sshd holding only its `type` host key ("ed25519", "rsa" or
 * "ecdsa"), as `ssh-keyscan` would write it.
 */
export async function hostKeyLine(s: Servers, type: "ed25519" | "rsa" | "ecdsa"): Promise<string> {
  const [algorithm, key] = (await Deno.readTextFile(`${s.sshdDir}/ssh_host_${type}_key.pub`))
    .trim().split(/\s+/);
  return `[127.0.0.1]:${s.sshdPort} ${algorithm} ${key}`;
}

/** `ssh-keygen -lf`'s SHA256 fingerprint of a public key file. */
export async function keyFingerprint(publicKeyFile: string): Promise<string> {
  const out = await new Deno.Command("ssh-keygen", { args: ["-lf", publicKeyFile] }).output();
  if (!out.success) throw new Error(new TextDecoder().decode(out.stderr));
  return new TextDecoder().decode(out.stdout).split(/\s+/)[1];
}
