// gRPC server reflection, grpc.reflection.v1 and v1alpha (both still in use by tools): which
// services this server has, and the descriptors of their files, answered from the descriptors
// the generated code already carries (gen/proto), never from a hand-kept copy of the schema.
// So `buf curl --list-services`, grpcurl and Postman need no .proto files. Readable without a
// token: it reveals only the public API of proto/ (server/routes.ts).
//
// Written here: protobuf-es and connect-es have no reflection service of their own, and the
// grpc-js one (@grpc/reflection) serves grpc-js servers only. It follows the reference
// implementation's behaviour: a file is sent with the files it imports, each file at most once
// per stream; symbols are services, methods, messages, enums, extensions, and their fields and
// values; unknown names answer NOT_FOUND in the stream, which goes on.
import { create, toBinary, type DescFile, type DescService } from "@bufbuild/protobuf";
import { nestedTypes } from "@bufbuild/protobuf/reflect";
import { FileDescriptorProtoSchema } from "@bufbuild/protobuf/wkt";
import { Code, type ServiceImpl } from "@connectrpc/connect";
import * as v1 from "../../gen/proto/grpc/reflection/v1/reflection_pb.js";
import * as v1alpha from "../../gen/proto/grpc/reflection/v1alpha/reflection_pb.js";

/** The served services' files and every file they import, by name and by symbol. */
export class DescriptorIndex {
  /** Full names of the services, sorted. */
  readonly services: string[];
  private readonly files = new Map<string, DescFile>();
  private readonly bySymbol = new Map<string, DescFile>();
  /** Extensions by extended message and field number. */
  private readonly extensions = new Map<string, Map<number, DescFile>>();

  constructor(services: DescService[]) {
    this.services = services.map((s) => s.typeName).sort();
    for (const s of services) this.add(s.file);
  }

  private add(file: DescFile): void {
    if (this.files.has(file.proto.name)) return;
    this.files.set(file.proto.name, file);
    for (const dep of file.dependencies) this.add(dep);
    for (const t of nestedTypes(file)) {
      this.bySymbol.set(t.typeName, file);
      if (t.kind === "service") for (const m of t.methods) this.bySymbol.set(`${t.typeName}.${m.name}`, file);
      if (t.kind === "message") for (const f of t.fields) this.bySymbol.set(`${t.typeName}.${f.name}`, file);
      if (t.kind === "enum") for (const v of t.values) this.bySymbol.set(`${t.typeName}.${v.name}`, file);
      if (t.kind === "extension") {
        let byNumber = this.extensions.get(t.extendee.typeName);
        if (!byNumber) this.extensions.set(t.extendee.typeName, (byNumber = new Map()));
        byNumber.set(t.number, file);
      }
    }
  }

  fileByName(name: string): DescFile | undefined {
    return this.files.get(name);
  }

  fileContaining(symbol: string): DescFile | undefined {
    return this.bySymbol.get(symbol.startsWith(".") ? symbol.slice(1) : symbol);
  }

  extension(containingType: string, number: number): DescFile | undefined {
    return this.extensions.get(containingType)?.get(number);
  }

  extensionNumbers(containingType: string): number[] | undefined {
    if (!this.bySymbol.has(containingType)) return undefined;
    return [...(this.extensions.get(containingType)?.keys() ?? [])].sort((a, b) => a - b);
  }
}

/** The serialized descriptors of `file` and of every file it imports (depth first), minus those already sent. */
function withDependencies(file: DescFile, sent: Set<string>): Uint8Array[] {
  const out: Uint8Array[] = [];
  const visit = (f: DescFile) => {
    if (sent.has(f.proto.name)) return;
    sent.add(f.proto.name);
    out.push(toBinary(FileDescriptorProtoSchema, f.proto));
    for (const dep of f.dependencies) visit(dep);
  };
  visit(file);
  return out;
}

/** One version's generated module (v1 and v1alpha have the same shapes, under two packages). */
type Version = typeof v1 | typeof v1alpha;
type Request = v1.ServerReflectionRequest | v1alpha.ServerReflectionRequest;

function answer(version: Version, index: DescriptorIndex, req: Request, sent: Set<string>) {
  const r = req.messageRequest;
  const files = (file: DescFile | undefined, what: string) =>
    file
      ? { case: "fileDescriptorResponse" as const, value: create(version.FileDescriptorResponseSchema, { fileDescriptorProto: withDependencies(file, sent) }) }
      : notFound(what);
  const notFound = (what: string) => ({
    case: "errorResponse" as const,
    value: create(version.ErrorResponseSchema, { errorCode: Code.NotFound, errorMessage: `${what} not found` }),
  });
  let messageResponse;
  switch (r.case) {
    case "listServices":
      messageResponse = {
        case: "listServicesResponse" as const,
        value: create(version.ListServiceResponseSchema, { service: index.services.map((name) => ({ name })) }),
      };
      break;
    case "fileByFilename":
      messageResponse = files(index.fileByName(r.value), `file ${JSON.stringify(r.value)}`);
      break;
    case "fileContainingSymbol":
      messageResponse = files(index.fileContaining(r.value), `symbol ${JSON.stringify(r.value)}`);
      break;
    case "fileContainingExtension":
      messageResponse = files(
        index.extension(r.value.containingType, r.value.extensionNumber),
        `extension ${r.value.extensionNumber} of ${JSON.stringify(r.value.containingType)}`,
      );
      break;
    case "allExtensionNumbersOfType": {
      const numbers = index.extensionNumbers(r.value);
      messageResponse = numbers
        ? {
            case: "allExtensionNumbersResponse" as const,
            value: create(version.ExtensionNumberResponseSchema, { baseTypeName: r.value, extensionNumber: numbers }),
          }
        : notFound(`type ${JSON.stringify(r.value)}`);
      break;
    }
    default:
      messageResponse = {
        case: "errorResponse" as const,
        value: create(version.ErrorResponseSchema, { errorCode: Code.InvalidArgument, errorMessage: "the request names nothing to reflect on" }),
      };
  }
  return { validHost: req.host, originalRequest: req, messageResponse };
}

function handlers<V extends Version>(version: V, index: DescriptorIndex) {
  return {
    async *serverReflectionInfo(requests: AsyncIterable<Request>) {
      const sent = new Set<string>(); // files already sent on this stream
      for await (const req of requests) yield answer(version, index, req, sent);
    },
  };
}

export function reflectionV1Handlers(index: DescriptorIndex): ServiceImpl<typeof v1.ServerReflection> {
  return handlers(v1, index) as ServiceImpl<typeof v1.ServerReflection>;
}

export function reflectionV1alphaHandlers(index: DescriptorIndex): ServiceImpl<typeof v1alpha.ServerReflection> {
  return handlers(v1alpha, index) as ServiceImpl<typeof v1alpha.ServerReflection>;
}
