// GetDeliveryMetrics: the DORA measures from the deployment history (to be built).
export class DeliveryMetricsUseCase {}
