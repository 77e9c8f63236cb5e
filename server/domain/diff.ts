// DiffDeployments: two places compared slot by slot (to be built).
import type { SqlPool } from "../data/client.js";

export class DiffUseCase {
  constructor(private readonly _unused?: SqlPool) {}
}
