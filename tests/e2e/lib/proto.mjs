// OTLP protobuf encoding and decoding for the e2e tests, with protobufjs over
// lib/otlp.proto (TracesData, ExportTraceService request/response,
// google.rpc.Status). 64-bit integers decode as decimal strings, bytes as
// Buffers.
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import protobuf from 'protobufjs';

const here = path.dirname(fileURLToPath(import.meta.url));
export const root = protobuf.loadSync(path.join(here, 'otlp.proto'));
export const TracesData = root.lookupType('clewe2e.TracesData');
export const ExportTraceServiceRequest = root.lookupType('clewe2e.ExportTraceServiceRequest');
export const ExportTraceServiceResponse = root.lookupType('clewe2e.ExportTraceServiceResponse');
export const RpcStatus = root.lookupType('clewe2e.RpcStatus');

const TO_OBJECT = { longs: String, bytes: Buffer, defaults: false, arrays: true, oneofs: false };

export function decode(type, buf) {
	return type.toObject(type.decode(buf), TO_OBJECT);
}

// Encode a plain object (camelCase fields, Buffers for bytes, strings or
// numbers for 64-bit fields) as the given message type.
export function encode(type, obj) {
	return Buffer.from(type.encode(type.fromObject(obj)).finish());
}
