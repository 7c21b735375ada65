import { expressHarness } from './express.js';
import { fastifyHarness } from './fastify.js';
import { honoHarness } from './hono.js';
import { koaHarness } from './koa.js';
import type { Harness } from './types.js';

export const harnesses: readonly Harness[] = [expressHarness, koaHarness, fastifyHarness, honoHarness];
export type { AnyOptions, Harness, RunningServer } from './types.js';
