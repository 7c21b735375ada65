// The previous framework majors, installed under aliases; their own types are not needed here.
declare module 'express4' {
  const express: unknown;
  export default express;
}
declare module 'koa2' {
  const Koa: unknown;
  export default Koa;
}
declare module 'fastify4' {
  const fastify: unknown;
  export default fastify;
}
