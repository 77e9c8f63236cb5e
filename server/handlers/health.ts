// grpc.health.v1.Health: SERVING while the database answers. "" means the whole server; a
// service's full name asks about that service.
import { Code, ConnectError, type ServiceImpl } from "@connectrpc/connect";
import {
  Health,
  HealthCheckResponse_ServingStatus as Status,
} from "../../gen/proto/grpc/health/v1/health_pb.js";

export interface HealthProbe {
  /** Names of the services this server serves. */
  services: string[];
  /** Resolves when the server can serve (the database answers). */
  check(): Promise<boolean>;
}

const WATCH_INTERVAL_MS = 5_000;

export function healthHandlers(probe: HealthProbe): ServiceImpl<typeof Health> {
  const statusOf = async (service: string): Promise<Status> => {
    if (service !== "" && !probe.services.includes(service)) return Status.SERVICE_UNKNOWN;
    return (await probe.check()) ? Status.SERVING : Status.NOT_SERVING;
  };
  return {
    async check(req) {
      const status = await statusOf(req.service);
      if (status === Status.SERVICE_UNKNOWN) throw new ConnectError(`unknown service "${req.service}"`, Code.NotFound);
      return { status };
    },
    async *watch(req, ctx) {
      let last: Status | undefined;
      while (!ctx.signal.aborted) {
        const status = await statusOf(req.service);
        if (status !== last) {
          last = status;
          yield { status };
        }
        await new Promise<void>((resolve) => {
          const t = setTimeout(resolve, WATCH_INTERVAL_MS);
          ctx.signal.addEventListener("abort", () => { clearTimeout(t); resolve(); }, { once: true });
        });
      }
    },
  };
}
