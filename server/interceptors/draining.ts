// While the server drains (SIGTERM: server/app.ts shutdown()), calls that had not started yet
// are refused with Unavailable: the client may retry elsewhere, nothing was done. The ones in
// flight finish. Health still answers (NOT_SERVING), so load balancers see the drain.
import { Code, ConnectError, type Interceptor } from "@connectrpc/connect";

export function drainingInterceptor(isDraining: () => boolean): Interceptor {
  return (next) => async (req) => {
    if (isDraining() && req.service.typeName !== "grpc.health.v1.Health") {
      throw new ConnectError("the server is shutting down; retry shortly", Code.Unavailable);
    }
    return next(req);
  };
}
