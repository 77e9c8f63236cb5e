// DeliveryMetricsService: proto ⇄ domain mapping only (to be built).
import { Code, ConnectError, type ServiceImpl } from "@connectrpc/connect";
import type { DeliveryMetricsService } from "../../gen/proto/chainloop/v1/delivery_metrics_pb.js";
import type { DeliveryMetricsUseCase } from "../domain/delivery-metrics.js";

export function deliveryMetricsHandlers(_metrics: DeliveryMetricsUseCase): ServiceImpl<typeof DeliveryMetricsService> {
  return {
    getDeliveryMetrics() {
      return Promise.reject(new ConnectError("GetDeliveryMetrics is not built yet", Code.Unimplemented));
    },
  };
}
