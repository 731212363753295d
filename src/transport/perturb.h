/* perturb.h — schedule perturbation at labelled atomic steps (internal).
 *
 * DSHQ_PERTURB() marks a point between two atomic steps of a protocol where
 * another process or thread could act.  In a normal build it is nothing at
 * all.  Built with -DDSHQ_PERTURB_BUILD (make mutants does; any build may, e.g.
 * `make test EXTRA_CFLAGS=-DDSHQ_PERTURB_BUILD`), each point yields the CPU or
 * spins or sleeps (up to 0.1 ms) for a random while now and then, so that the interleavings a
 * protocol bug needs — a commit between a load and its re-check, a thief
 * between a scan and a steal — happen in every test run instead of once a
 * month.  DSHQ_PERTURB_ODDS (environment, default 8) makes a point act once
 * in that many passes on average. */
#ifndef DSHQ_TRANSPORT_PERTURB_H
#define DSHQ_TRANSPORT_PERTURB_H

#ifdef DSHQ_PERTURB_BUILD
void dshq_perturb(void);
#define DSHQ_PERTURB() dshq_perturb()
#else
#define DSHQ_PERTURB() ((void)0)
#endif

#endif
