/**
 * The `s3` destination: any S3-compatible bucket (AWS, Backblaze B2, MinIO, Ceph radosgw).
 *
 * Uploads are multipart, streamed from the staging file; a failed or interrupted upload is
 * aborted so no parts are left behind (they would be billed and never visible). The stored
 * object's size is checked with HeadObject after completion. Listing pages through results,
 * once per call: B2 charges per list request. Multipart uploads a killed run could not abort
 * are found and aborted by `removePartials`.
 *
 * @module
 */
import {
  AbortMultipartUploadCommand,
  DeleteObjectCommand,
  GetObjectCommand,
  HeadObjectCommand,
  ListMultipartUploadsCommand,
  ListObjectsV2Command,
  S3Client,
  type S3ClientConfig,
} from "@aws-sdk/client-s3";
import { Upload } from "@aws-sdk/lib-storage";
import { createReadStream } from "node:fs";
import { readSecret } from "../config/secrets.ts";
import type { S3Config } from "../config/types.ts";
import { DestinationError } from "../errors.ts";
import {
  archiveName,
  byId,
  type Destination,
  idFromName,
  isAbandoned,
  isLayoutName,
  type PartialsToRemove,
  type StoredArchive,
} from "./destination.ts";

/** S3 allows 10,000 parts: parts grow for archives beyond ~80 GB. */
const MIN_PART_SIZE = 8 * 1024 * 1024;
const MAX_PARTS = 9_000;
/** Parts in flight; each is buffered in memory, so this bounds the upload's memory. */
const PARALLEL_PARTS = 3;

export class S3Destination implements Destination {
  readonly name = "s3";
  readonly #config: S3Config;
  readonly #pageSize: number;
  #client?: Promise<S3Client>;

  /**
   * `pageSize` is the page size of listings and multipart upload listings (S3's maximum, 1000,
   * unless testing paging).
   */
  constructor(config: S3Config, pageSize = 1000) {
    this.#config = config;
    this.#pageSize = pageSize;
  }

  #key(host: string, service: string, id?: string): string {
    return `${this.#config.path}${host}/${service}/${id ? archiveName(id) : ""}`;
  }

  /** The client is made on first use: secrets are read at run time, not at config load. */
  #connect(): Promise<S3Client> {
    this.#client ??= (async () => {
      const { endpoint, region, accessKeyId, secretAccessKey } = this.#config;
      const options: S3ClientConfig = {
        region,
        // Custom endpoints (B2, MinIO, Ceph) want path-style addressing.
        ...(endpoint ? { endpoint, forcePathStyle: true } : {}),
        // The SDK's newer default checksums are refused by several S3-compatible servers.
        requestChecksumCalculation: "WHEN_REQUIRED",
        responseChecksumValidation: "WHEN_REQUIRED",
      };
      if (accessKeyId && secretAccessKey) {
        options.credentials = {
          accessKeyId: await readSecret(accessKeyId),
          secretAccessKey: await readSecret(secretAccessKey),
        };
      }
      return new S3Client(options);
    })();
    return this.#client;
  }

  #fail(action: string, error: unknown): DestinationError {
    const status = (error as { $metadata?: { httpStatusCode?: number } })?.$metadata
      ?.httpStatusCode;
    return new DestinationError(this.name, `${action}: ${describeS3Error(error)}`, {
      cause: error,
      // Client errors other than timeouts and throttling will fail the same way again.
      permanent: status !== undefined && status >= 400 && status < 500 && status !== 408 &&
        status !== 429,
    });
  }

  /**
   * Every page of a listing under `prefix`: with `delimiter`, the "directories" below it come as
   * common prefixes instead of the keys under them.
   */
  async *#pages(prefix: string, delimiter?: string) {
    const client = await this.#connect();
    let token: string | undefined;
    try {
      do {
        const page = await client.send(
          new ListObjectsV2Command({
            Bucket: this.#config.bucket,
            Prefix: prefix,
            Delimiter: delimiter,
            ContinuationToken: token,
            MaxKeys: this.#pageSize,
          }),
        );
        yield page;
        token = page.IsTruncated ? page.NextContinuationToken : undefined;
      } while (token);
    } catch (error) {
      throw this.#fail(`cannot list s3://${this.#config.bucket}/${prefix}`, error);
    }
  }

  async hosts(): Promise<string[]> {
    const prefix = this.#config.path;
    const hosts: string[] = [];
    for await (const page of this.#pages(prefix, "/")) {
      for (const { Prefix: common } of page.CommonPrefixes ?? []) {
        const host = common?.slice(prefix.length, -1) ?? "";
        if (host && isLayoutName(host)) hosts.push(host);
      }
    }
    return hosts.sort();
  }

  /**
   * One listing of every key under the host, not one per service: B2 charges per list request,
   * and a service counts only once an archive is found in it anyway.
   */
  async services(host: string): Promise<string[]> {
    const prefix = `${this.#config.path}${host}/`;
    const services = new Set<string>();
    for await (const page of this.#pages(prefix)) {
      for (const object of page.Contents ?? []) {
        const [service, name, ...deeper] = object.Key?.slice(prefix.length).split("/") ?? [];
        if (deeper.length === 0 && service && isLayoutName(service) && idFromName(name ?? "")) {
          services.add(service);
        }
      }
    }
    return [...services].sort();
  }

  async list(host: string, service: string): Promise<StoredArchive[]> {
    const prefix = this.#key(host, service);
    const found: StoredArchive[] = [];
    for await (const page of this.#pages(prefix)) {
      for (const object of page.Contents ?? []) {
        const rest = object.Key?.slice(prefix.length) ?? "";
        const id = rest.includes("/") ? undefined : idFromName(rest);
        if (id) found.push({ id, size: object.Size ?? 0 });
      }
    }
    return found.sort(byId);
  }

  async put(
    host: string,
    service: string,
    id: string,
    sourcePath: string,
    size: number,
    signal?: AbortSignal,
    onProgress?: (sent: number) => void,
  ): Promise<void> {
    const client = await this.#connect();
    // An abort that came while connecting: the listener below would never hear it.
    signal?.throwIfAborted();
    const key = this.#key(host, service, id);
    const upload = new Upload({
      client,
      params: {
        Bucket: this.#config.bucket,
        Key: key,
        Body: createReadStream(sourcePath, { highWaterMark: 1024 * 1024 }),
        ContentType: "application/octet-stream",
      },
      partSize: Math.max(MIN_PART_SIZE, Math.ceil(size / MAX_PARTS)),
      queueSize: PARALLEL_PARTS,
      // On failure lib-storage aborts the multipart upload, so no parts linger.
      leavePartsOnError: false,
    });
    if (onProgress) upload.on("httpUploadProgress", (p) => p.loaded && onProgress(p.loaded));
    const abort = () => void upload.abort().catch(() => {});
    signal?.addEventListener("abort", abort, { once: true });
    try {
      await upload.done();
      const head = await client.send(
        new HeadObjectCommand({ Bucket: this.#config.bucket, Key: key }),
      );
      if (head.ContentLength !== size) {
        throw new Error(`stored ${head.ContentLength} bytes, expected ${size}`);
      }
    } catch (error) {
      await this.#abortUploads(client, key);
      throw this.#fail(`cannot upload s3://${this.#config.bucket}/${key}`, error);
    } finally {
      signal?.removeEventListener("abort", abort);
    }
  }

  /**
   * Aborts every multipart upload of `key` still open. lib-storage aborts on its own, but not
   * always before an interrupted process exits; the key is unique to this run, so any upload
   * of it is ours.
   */
  async #abortUploads(client: S3Client, key: string): Promise<void> {
    try {
      const open = await client.send(
        new ListMultipartUploadsCommand({ Bucket: this.#config.bucket, Prefix: key }),
      );
      for (const upload of open.Uploads ?? []) {
        if (upload.Key !== key) continue;
        await client.send(
          new AbortMultipartUploadCommand({
            Bucket: this.#config.bucket,
            Key: key,
            UploadId: upload.UploadId,
          }),
        );
      }
    } catch {
      // Best effort: the original error is the one to report.
    }
  }

  async open(host: string, service: string, id: string): Promise<ReadableStream<Uint8Array>> {
    const client = await this.#connect();
    const key = this.#key(host, service, id);
    try {
      const object = await client.send(
        new GetObjectCommand({ Bucket: this.#config.bucket, Key: key }),
      );
      if (!object.Body) throw new Error("empty response");
      return object.Body.transformToWebStream() as ReadableStream<Uint8Array>;
    } catch (error) {
      throw this.#fail(`cannot download s3://${this.#config.bucket}/${key}`, error);
    }
  }

  async remove(host: string, service: string, id: string): Promise<void> {
    const client = await this.#connect();
    const key = this.#key(host, service, id);
    try {
      await client.send(new DeleteObjectCommand({ Bucket: this.#config.bucket, Key: key }));
    } catch (error) {
      throw this.#fail(`cannot delete s3://${this.#config.bucket}/${key}`, error);
    }
  }

  async removePartials(
    host: string,
    service: string,
    options: PartialsToRemove,
  ): Promise<string[]> {
    const client = await this.#connect();
    const { bucket } = this.#config;
    const prefix = this.#key(host, service);
    const removed: string[] = [];
    let keyMarker: string | undefined;
    let uploadIdMarker: string | undefined;
    try {
      do {
        const page = await client.send(
          new ListMultipartUploadsCommand({
            Bucket: bucket,
            Prefix: prefix,
            KeyMarker: keyMarker,
            UploadIdMarker: uploadIdMarker,
            MaxUploads: this.#pageSize,
          }),
        );
        for (const { Key: key, UploadId: uploadId, Initiated: started } of page.Uploads ?? []) {
          const rest = key?.startsWith(prefix) ? key.slice(prefix.length) : "";
          const id = rest.includes("/") ? undefined : idFromName(rest);
          if (!id || !uploadId) continue;
          if (!isAbandoned(id, started, options)) continue;
          await client.send(
            new AbortMultipartUploadCommand({ Bucket: bucket, Key: key, UploadId: uploadId }),
          ).catch((error) => {
            // Aborted or completed meanwhile: nothing left to remove.
            if ((error as { name?: string })?.name !== "NoSuchUpload") throw error;
          });
          removed.push(
            `aborted the unfinished multipart upload of s3://${bucket}/${key}${
              started ? ` (started ${started.toISOString()})` : ""
            }`,
          );
        }
        const more = page.IsTruncated && page.NextKeyMarker !== undefined;
        keyMarker = more ? page.NextKeyMarker : undefined;
        uploadIdMarker = more ? page.NextUploadIdMarker : undefined;
      } while (keyMarker !== undefined);
    } catch (error) {
      throw this.#fail(`cannot clean up unfinished uploads in s3://${bucket}/${prefix}`, error);
    }
    return removed;
  }

  async close(): Promise<void> {
    if (this.#client) (await this.#client.catch(() => undefined))?.destroy();
  }
}

/**
 * A message a user can act on. The SDK's errors carry a code (InvalidAccessKeyId,
 * SignatureDoesNotMatch, NoSuchBucket, …) and never the secret itself.
 */
export function describeS3Error(error: unknown): string {
  const e = error as { name?: string; message?: string; $metadata?: { httpStatusCode?: number } };
  const status = e?.$metadata?.httpStatusCode;
  switch (e?.name) {
    case "InvalidAccessKeyId":
    case "SignatureDoesNotMatch":
    case "AccessDenied":
    case "Forbidden":
      return `access denied (${e.name}): check the access key id and secret access key`;
    case "NoSuchBucket":
      return "the bucket does not exist";
  }
  if (status === 403) return "access denied (HTTP 403): check the credentials and bucket policy";
  return e?.message ?? String(error);
}
