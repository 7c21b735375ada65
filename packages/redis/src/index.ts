// @jwtauth/redis: a RevocationStore over Redis (being built for issue 8).
export {};
