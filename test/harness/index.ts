import express4 from 'express4';
import fastify4 from 'fastify4';
import koa2 from 'koa2';
import { expressHarness, makeExpressHarness } from './express.js';
import { fastifyHarness, makeFastifyHarness } from './fastify.js';
import { honoHarness } from './hono.js';
import { koaHarness, makeKoaHarness } from './koa.js';
import type { Harness } from './types.js';

/** Every adapter, on every framework major version the packages support. */
export const harnesses: readonly Harness[] = [
  expressHarness,
  makeExpressHarness('express4', express4 as Parameters<typeof makeExpressHarness>[1]),
  koaHarness,
  makeKoaHarness('koa2', koa2 as Parameters<typeof makeKoaHarness>[1]),
  fastifyHarness,
  makeFastifyHarness('fastify4', fastify4 as Parameters<typeof makeFastifyHarness>[1]),
  honoHarness,
];
export type { AnyOptions, Harness, RunningServer } from './types.js';
