/* compare.c - distances between particles and the PDE density: H^-s' over the grid's band plus the tail, and the
   exact circle W1 in 1-D (math spec C.6) */
#include <complex.h>
#include <math.h>
#include "kf_compare.h"
#include "kf_ewald.h"
#include "kf_fourier.h"
#include "kf_log.h"

struct _p_KfCompare {
  MPI_Comm        comm;
  const KfParams *p;
  PetscReal       s;       /* order s' of the H^-s' distance */
  PetscInt64      N;       /* particles */
  PetscInt        nk;      /* band modes (half space) */
  PetscInt64     *idx;     /* their flat indices in the whole grid */
  PetscReal      *lambda;  /* lambda_s'(k_m) */
  PetscReal       k0, band_lambda; /* K_s'(0) and sum over the whole band (both halves) of lambda_s' */
  KfFourier       F;
  PetscReal      *S, *amp;  /* structure factors, amplitudes (2 nk each) */
  VecScatter      toall;   /* the PDE field gathered on every rank */
  Vec             full;
  KfComplex      *chat;    /* rho^ on the whole grid */
  KfComplex      *nuhat;   /* nu^ on the band modes */
  PetscInt        gstart, gcount; /* this rank's grid nodes (d = 1) */
};

static PetscErrorCode CompareOptions(MPI_Comm comm, const KfParams *p, PetscReal *s)
{
  PetscBool set;

  PetscFunctionBeginUser;
  PetscOptionsBegin(comm, NULL, "Compare mode", "kmdflow");
  PetscCall(KfOptionsReal(PetscOptionsObject, "-compare_s", "Order s' of the H^-s' distance between particles and PDE (default -s; 2 s' > d)", *s, 0, 50, PETSC_TRUE, s, &set));
  PetscOptionsEnd();
  if (set) PetscCheck(2 * *s > p->dim, comm, KF_ERR_INPUT, "-compare_s %s: the H^-s' norm of particles is finite only for 2 s' > d = %" PetscInt_FMT, KF_NUM(*s), p->dim);
  else PetscCheck(2 * *s > p->dim, comm, KF_ERR_INPUT, "-s %s in d = %" PetscInt_FMT ": the distance H^-s' between particles and PDE (by default s' = s) needs 2 s' > d; give -compare_s > %s", KF_NUM(*s), p->dim, KF_NUM(0.5 * p->dim));
  PetscFunctionReturn(PETSC_SUCCESS);
}

PetscErrorCode KfCompareHelp(MPI_Comm comm, const KfParams *p)
{
  PetscReal s = p->s;

  PetscFunctionBeginUser;
  PetscCall(CompareOptions(comm, p, &s));
  PetscFunctionReturn(PETSC_SUCCESS);
}

/* The half-space band of the whole grid in storage order (the order of KfSpectralHalfModes), with lambda_s'. */
static PetscErrorCode SetupBand(KfCompare C)
{
  const KfParams *p = C->p;
  PetscInt       *kv, kk[KF_MAX_DIM];
  PetscInt64      total = 1;

  PetscFunctionBeginUser;
  for (PetscInt j = 0; j < p->dim; j++) total *= p->n[j];
  C->nk = 0;
  for (PetscInt64 i = 0; i < total; i++)
    if (KfGridWavenumbers(p->dim, p->n, i, kk) && KfInHalfSpace(p->dim, kk)) C->nk++;
  PetscCall(PetscMalloc2(PetscMax(1, C->nk), &C->idx, PetscMax(1, C->nk), &C->lambda));
  PetscCall(PetscMalloc1(PetscMax(1, C->nk * p->dim), &kv));
  C->band_lambda = 0;
  for (PetscInt64 i = 0, m = 0; i < total; i++) {
    PetscReal k2 = 0;

    if (!(KfGridWavenumbers(p->dim, p->n, i, kk) && KfInHalfSpace(p->dim, kk))) continue;
    for (PetscInt j = 0; j < p->dim; j++) {
      kv[m * p->dim + j] = kk[j];
      k2 += (PetscReal)kk[j] * kk[j];
    }
    C->idx[m]    = i;
    C->lambda[m] = PetscPowReal(4 * PETSC_PI * PETSC_PI * k2 / (p->L * p->L), -C->s);
    C->band_lambda += 2 * C->lambda[m];
    m++;
  }
  PetscCall(KfFourierCreate(C->comm, p->dim, p->L, C->nk, kv, &C->F));
  PetscCall(PetscFree(kv));
  PetscCall(PetscMalloc2(2 * PetscMax(1, C->nk), &C->S, 2 * PetscMax(1, C->nk), &C->amp));
  PetscFunctionReturn(PETSC_SUCCESS);
}

/* K_s'(0) = (2 pi/L)^{-2s'} Z_d(2s') from the Ewald module (finite since 2s' > d). */
static PetscErrorCode SelfValue(KfCompare C)
{
  KfEwald   ew;
  PetscBool finite;

  PetscFunctionBeginUser;
  PetscCall(KfEwaldCreate(C->p->dim, C->s, C->p->L, 1e-14, &ew));
  PetscCall(KfEwaldSelfValue(ew, &C->k0, &finite));
  PetscCall(KfEwaldDestroy(&ew));
  PetscCheck(finite, C->comm, KF_ERR_INPUT, "-compare_s %s: the H^-s' norm of particles is infinite unless 2 s' > d = %" PetscInt_FMT, KF_NUM(C->s), C->p->dim);
  PetscFunctionReturn(PETSC_SUCCESS);
}

/* Gathering by VecScatter gives the whole grid in row-major order because the slabs are consecutive along x1. */
static PetscErrorCode SetupGather(KfCompare C, KfSpectral sp)
{
  const KfSpectralLayout *lay;
  Vec                     v;
  PetscInt                lo, row = 1;

  PetscFunctionBeginUser;
  PetscCall(KfSpectralGetLayout(sp, &lay));
  for (PetscInt j = 1; j < lay->dim; j++) row *= lay->n[j];
  PetscCall(KfSpectralCreateVec(sp, &v));
  PetscCall(VecGetOwnershipRange(v, &lo, NULL));
  PetscCheck(lay->nlocal == 0 || lo == lay->start[0] * row, PETSC_COMM_SELF, PETSC_ERR_PLIB, "grid slabs are not in rank order");
  PetscCall(VecScatterCreateToAll(v, &C->toall, &C->full));
  PetscCall(VecDestroy(&v));
  PetscCall(PetscMalloc1(lay->ntotal, &C->chat));
  C->gstart = lay->dim == 1 ? lay->start[0] : 0;
  C->gcount = lay->dim == 1 ? lay->count[0] : 0;
  PetscFunctionReturn(PETSC_SUCCESS);
}

static PetscErrorCode GatherCoefficients(KfCompare, Vec);

/* nu^ on the band, for the exact distance through the particle energy. */
static PetscErrorCode SetupTarget(KfCompare C, Vec nu)
{
  PetscFunctionBeginUser;
  PetscCall(GatherCoefficients(C, nu));
  PetscCall(PetscMalloc1(PetscMax(1, C->nk), &C->nuhat));
  for (PetscInt m = 0; m < C->nk; m++) C->nuhat[m] = C->chat[C->idx[m]];
  PetscFunctionReturn(PETSC_SUCCESS);
}

PetscErrorCode KfCompareCreate(MPI_Comm comm, const KfParams *p, KfSpectral sp, Vec nu, PetscInt64 N, KfCompare *out)
{
  KfCompare C;

  PetscFunctionBeginUser;
  PetscCall(PetscNew(&C));
  C->comm = comm;
  C->p    = p;
  C->N    = N;
  C->s    = p->s;
  PetscCall(CompareOptions(comm, p, &C->s));
  PetscCall(SelfValue(C));
  PetscCall(SetupBand(C));
  PetscCall(SetupGather(C, sp));
  PetscCall(SetupTarget(C, nu));
  *out = C;
  PetscFunctionReturn(PETSC_SUCCESS);
}

PetscErrorCode KfCompareDestroy(KfCompare *C)
{
  PetscFunctionBeginUser;
  if (!*C) PetscFunctionReturn(PETSC_SUCCESS);
  PetscCall(PetscFree2((*C)->idx, (*C)->lambda));
  PetscCall(PetscFree2((*C)->S, (*C)->amp));
  PetscCall(KfFourierDestroy(&(*C)->F));
  PetscCall(VecScatterDestroy(&(*C)->toall));
  PetscCall(VecDestroy(&(*C)->full));
  PetscCall(PetscFree((*C)->chat));
  PetscCall(PetscFree((*C)->nuhat));
  PetscCall(PetscFree(*C));
  PetscFunctionReturn(PETSC_SUCCESS);
}

PetscErrorCode KfCompareGetOrder(KfCompare C, PetscReal *s)
{
  PetscFunctionBeginUser;
  *s = C->s;
  PetscFunctionReturn(PETSC_SUCCESS);
}

PetscErrorCode KfCompareDescribe(KfCompare C, char buf[], size_t len)
{
  PetscFunctionBeginUser;
  if (C->s == C->p->s) PetscCall(PetscSNPrintf(buf, len, "H^-%s distance exact (particle energy + %" PetscInt_FMT " band modes)%s", KF_NUM(C->s), 2 * C->nk, C->p->dim == 1 ? ", circle W1" : ""));
  else PetscCall(PetscSNPrintf(buf, len, "H^-%s distance over %" PetscInt_FMT " band modes + diagonal tail %.3e/N%s", KF_NUM(C->s), 2 * C->nk, (double)(C->k0 - C->band_lambda), C->p->dim == 1 ? ", circle W1" : ""));
  PetscFunctionReturn(PETSC_SUCCESS);
}

/* rho^ = n^-d DFT(rho) of the whole grid, on every rank. */
static PetscErrorCode GatherCoefficients(KfCompare C, Vec rho)
{
  const PetscScalar *v;
  PetscInt           n;

  PetscFunctionBeginUser;
  PetscCall(VecScatterBegin(C->toall, rho, C->full, INSERT_VALUES, SCATTER_FORWARD));
  PetscCall(VecScatterEnd(C->toall, rho, C->full, INSERT_VALUES, SCATTER_FORWARD));
  PetscCall(VecGetLocalSize(C->full, &n));
  PetscCall(VecGetArrayRead(C->full, &v));
  for (PetscInt i = 0; i < n; i++) C->chat[i] = v[i];
  PetscCall(VecRestoreArrayRead(C->full, &v));
  PetscCall(KfSpectralSerialDFT(C->p->dim, C->p->n, C->chat, PETSC_TRUE));
  for (PetscInt i = 0; i < n; i++) C->chat[i] /= (PetscReal)n;
  PetscFunctionReturn(PETSC_SUCCESS);
}

/*
  band = sum over both halves of lambda |mu_N^ - rho^|^2 and the diagonal tail; with s' = s the exact distance from
  the particle energy E_N = ||mu_N - nu||^2/2 (all frequencies, by the ring): rho - nu lives on the band, so
  ||mu_N - rho||^2 = 2 E_N - 2 sum_band lambda Re[(mu_N^ - nu^) conj(rho^ - nu^)] + sum_band lambda |rho^ - nu^|^2.
*/
static PetscErrorCode Hminus(KfCompare C, PetscInt nlocal, const PetscReal x[], const PetscReal w[], PetscReal energy_particles, KfCompareDist *dist)
{
  const PetscInt d = C->p->dim;
  PetscReal     *xs, band = 0, rho2 = 0, cross = 0, pde = 0, w2 = 1.0 / (PetscReal)C->N;

  PetscFunctionBeginUser;
  PetscCall(PetscMalloc1(PetscMax(1, nlocal * d), &xs));
  for (PetscInt i = 0; i < nlocal; i++)
    for (PetscInt c = 0; c < d; c++) xs[c * nlocal + i] = x[i * d + c];
  if (w) {
    PetscReal loc = 0;

    PetscCall(KfFourierStructureWeighted(C->F, nlocal, nlocal, xs, w, C->S));
    for (PetscInt i = 0; i < nlocal; i++) loc += w[i] * w[i];
    PetscCallMPI(MPI_Allreduce(&loc, &w2, 1, MPIU_REAL, MPI_SUM, C->comm));
  } else PetscCall(KfFourierStructure(C->F, nlocal, nlocal, xs, 1.0 / (PetscReal)C->N, C->S));
  PetscCall(PetscFree(xs));
  for (PetscInt m = 0; m < C->nk; m++) {
    const KfComplex r = C->chat[C->idx[m]], mu = C->S[2 * m] + C->S[2 * m + 1] * I, nu = C->nuhat[m];
    const PetscReal w = 2 * C->lambda[m];

    band += w * PetscSqr(cabs(mu - r));
    rho2 += w * PetscSqr(cabs(r));
    cross += w * creal((mu - nu) * conj(r - nu));
    pde += w * PetscSqr(cabs(r - nu));
  }
  dist->hminus_band = band;
  dist->hminus_tail = (C->k0 - C->band_lambda) * w2; /* |mu_N^(k)|^2 by its diagonal part sum_i w_i^2 */
  dist->hminus_iid  = PetscSqrtReal(PetscMax(0, C->k0 - rho2) / (PetscReal)C->N);
  if (C->s == C->p->s) dist->hminus = PetscSqrtReal(PetscMax(0, 2 * energy_particles - 2 * cross + pde));
  else dist->hminus = PetscSqrtReal(band + dist->hminus_tail);
  PetscFunctionReturn(PETSC_SUCCESS);
}

/* ---- circle W1 in 1-D ---- */

/* A breakpoint of G = mu_N([0, x]) - F(x): position, CDF F and density of rho there, and whether a particle sits there. */
typedef struct {
  PetscReal  x, F, rho;
  PetscReal  w;  /* the particle's mass (0 for a grid node) */
  PetscInt64 id; /* particle id, or -1 for a grid node */
} Node;

static int CompareNodes(const void *a, const void *b)
{
  const Node *u = (const Node *)a, *v = (const Node *)b;

  if (u->x != v->x) return u->x < v->x ? -1 : 1;
  return u->id < v->id ? -1 : u->id > v->id;
}

/*
  F and rho of the trigonometric interpolant at the n points x: F(x) = rho^_0 x/L + sum_{k != 0} rho^_k
  (e^{2 pi i k x/L} - 1)/(2 pi i k), i.e. the field of the amplitudes a_k = rho^_k/(2 pi i k) minus its value at 0;
  rho = rho^_0 + L dF/dx of that field.
*/
static PetscErrorCode InterpolantCDF(KfCompare C, PetscInt n, const PetscReal x[], Node out[])
{
  const PetscReal L = C->p->L, r0 = creal(C->chat[0]);
  PetscReal      *pot, *grad, c0 = 0;

  PetscFunctionBeginUser;
  for (PetscInt m = 0; m < C->nk; m++) {
    const PetscReal k = (PetscReal)(C->idx[m] <= C->p->n[0] / 2 ? C->idx[m] : C->idx[m] - C->p->n[0]);
    const KfComplex r = C->chat[C->idx[m]];

    C->amp[2 * m]     = cimag(r) / (2 * PETSC_PI * k);
    C->amp[2 * m + 1] = -creal(r) / (2 * PETSC_PI * k);
    c0 += 2 * C->amp[2 * m];
  }
  PetscCall(PetscCalloc2(PetscMax(1, n), &pot, PetscMax(1, n), &grad));
  PetscCall(KfFourierField(C->F, C->amp, n, n, x, grad, pot));
  for (PetscInt i = 0; i < n; i++) {
    out[i].x   = x[i];
    out[i].F   = r0 * x[i] / L + pot[i] - c0;
    out[i].rho = r0 + L * grad[i];
  }
  PetscCall(PetscFree2(pot, grad));
  PetscFunctionReturn(PETSC_SUCCESS);
}

/* Every rank gets all nodes in rank order (Node as MPI bytes: the same machine on every rank). */
static PetscErrorCode GatherNodes(MPI_Comm comm, PetscInt n, const Node local[], PetscInt64 total, Node all[])
{
  PetscMPIInt size, mine, *counts, *displs;

  PetscFunctionBeginUser;
  PetscCallMPI(MPI_Comm_size(comm, &size));
  PetscCall(PetscMalloc2(size, &counts, size, &displs));
  PetscCall(PetscMPIIntCast(n * (PetscInt)sizeof(Node), &mine));
  PetscCallMPI(MPI_Allgather(&mine, 1, MPI_INT, counts, 1, MPI_INT, comm));
  displs[0] = 0;
  for (PetscMPIInt r = 1; r < size; r++) displs[r] = displs[r - 1] + counts[r - 1];
  PetscCheck((PetscInt64)displs[size - 1] + counts[size - 1] == total * (PetscInt64)sizeof(Node), comm, PETSC_ERR_PLIB, "gathered node count");
  PetscCallMPI(MPI_Allgatherv(local, mine, MPI_BYTE, all, counts, displs, MPI_BYTE, comm));
  PetscCall(PetscFree2(counts, displs));
  PetscFunctionReturn(PETSC_SUCCESS);
}

/* On one piece [z_a, z_b]: g(tau) = c - m - H(tau), H the cubic Hermite interpolant of F; g = b0 + b1 tau + b2 tau^2 + b3 tau^3. */
typedef struct {
  PetscReal h, b[4];
} Piece;

static Piece MakePiece(const Node *a, const Node *b, PetscReal c, PetscReal m, PetscReal L)
{
  const PetscReal h = b->x - a->x, m0 = h * a->rho / L, m1 = h * b->rho / L;
  Piece           p;

  p.h    = h;
  p.b[0] = c - m - a->F;
  p.b[1] = -m0;
  p.b[2] = -(-3 * a->F - 2 * m0 + 3 * b->F - m1);
  p.b[3] = -(2 * a->F + m0 - 2 * b->F + m1);
  return p;
}

static PetscReal PieceValue(const Piece *p, PetscReal t)
{
  return p->b[0] + t * (p->b[1] + t * (p->b[2] + t * p->b[3]));
}

static PetscReal PieceIntegral(const Piece *p, PetscReal t)
{
  return t * (p->b[0] + t * (p->b[1] / 2 + t * (p->b[2] / 3 + t * p->b[3] / 4)));
}

/* The sign change of g in (0, 1) by bisection (g(0) and g(1) of opposite signs). */
/* The sign change of g in (0, 1) (g(0), g(1) of opposite signs): Newton on the cubic inside a shrinking bracket, bisection
   where Newton leaves it; stops when the bracket stops shrinking or the step is below 4 ulp. */
static PetscReal PieceRoot(const Piece *p, PetscReal g0)
{
  PetscReal lo = 0, hi = 1, t = 0.5;

  for (int it = 0; it < 100; it++) {
    const PetscReal g = PieceValue(p, t), dg = p->b[1] + t * (2 * p->b[2] + 3 * t * p->b[3]);
    PetscReal       next;

    if (g == 0) return t;
    if ((g > 0) == (g0 > 0)) lo = t;
    else hi = t;
    next = dg != 0 ? t - g / dg : 0.5 * (lo + hi);
    if (!(next > lo && next < hi)) next = 0.5 * (lo + hi);
    if (PetscAbsReal(next - t) <= 4 * PETSC_MACHINE_EPSILON * PetscMax(t, 1e-300) || next <= lo || next >= hi) return next > lo && next < hi ? next : t;
    t = next;
  }
  return t;
}

/* The Lebesgue measure of {G > m} (measure = PETSC_TRUE) or the integral of |G - m| over all pieces. */
static PetscReal SweepPieces(PetscInt nn, const Node z[], PetscReal m, PetscReal L, PetscBool measure)
{
  PetscReal acc = 0, mass = 0;

  for (PetscInt a = 0; a + 1 < nn; a++) {
    Piece     pc;
    PetscReal g0, g1;

    mass += z[a].w;
    if (z[a + 1].x <= z[a].x) continue;
    pc = MakePiece(&z[a], &z[a + 1], mass, m, L);
    g0 = PieceValue(&pc, 0);
    g1 = PieceValue(&pc, 1);
    if ((g0 > 0) == (g1 > 0)) acc += measure ? (g0 > 0 ? pc.h : 0) : pc.h * PetscAbsReal(PieceIntegral(&pc, 1));
    else {
      const PetscReal t = PieceRoot(&pc, g0), It = PieceIntegral(&pc, t);

      if (measure) acc += pc.h * (g0 > 0 ? t : 1 - t);
      else acc += pc.h * (PetscAbsReal(It) + PetscAbsReal(PieceIntegral(&pc, 1) - It));
    }
  }
  return acc;
}

/* The Lebesgue median of G by bisection on m: |{G > m}| = L/2; G ranges between its values on both sides of the nodes. */
/*
  The Lebesgue median of G: the m with |{G > m}| = L/2. h(m) = |{G > m}| - L/2 is non-increasing and piecewise smooth;
  regula falsi (Illinois variant) inside the bracket [min G, max G], bisection when it stalls, to the last bit.
*/
static PetscReal MedianG(PetscInt nn, const Node z[], PetscReal L)
{
  PetscReal lo = PETSC_MAX_REAL, hi = -PETSC_MAX_REAL, mass = 0, hlo, hhi;
  int       side = 0;

  for (PetscInt a = 0; a < nn; a++) {
    lo = PetscMin(lo, mass - z[a].F);
    mass += z[a].w;
    hi = PetscMax(hi, mass - z[a].F);
  }
  lo -= 1e-12;
  hi += 1e-12;
  hlo = SweepPieces(nn, z, lo, L, PETSC_TRUE) - 0.5 * L;
  hhi = SweepPieces(nn, z, hi, L, PETSC_TRUE) - 0.5 * L;
  for (int it = 0; it < 300 && hlo > 0 && hhi < 0; it++) {
    PetscReal m = (lo * hhi - hi * hlo) / (hhi - hlo), h;

    if (!(m > lo && m < hi) || it % 8 == 7) m = 0.5 * (lo + hi); /* guarantees progress */
    if (m <= lo || m >= hi) break;
    h = SweepPieces(nn, z, m, L, PETSC_TRUE) - 0.5 * L;
    if (h == 0) return m;
    if (h > 0) {
      lo  = m;
      hlo = h;
      if (side == 1) hhi *= 0.5;
      side = 1;
    } else {
      hi  = m;
      hhi = h;
      if (side == -1) hlo *= 0.5;
      side = -1;
    }
  }
  return 0.5 * (lo + hi);
}

static PetscErrorCode CircleW1(KfCompare C, PetscInt nlocal, const PetscReal x[], const PetscReal w[], PetscReal *w1)
{
  const PetscReal L = C->p->L;
  const PetscInt  n = C->p->n[0], nl = nlocal + C->gcount;
  PetscInt64      start = 0, np = (PetscInt64)nlocal;
  PetscReal      *pts;
  Node           *loc, *all;
  PetscInt        nn;

  PetscFunctionBeginUser;
  PetscCallMPI(MPI_Exscan(&np, &start, 1, MPIU_INT64, MPI_SUM, C->comm));
  PetscCall(PetscMalloc1(PetscMax(1, nl), &pts));
  PetscCall(PetscMalloc1(PetscMax(1, nl), &loc));
  PetscCall(PetscMalloc1(C->N + n + 1, &all));
  for (PetscInt i = 0; i < nlocal; i++) pts[i] = x[i];
  for (PetscInt g = 0; g < C->gcount; g++) pts[nlocal + g] = L * (PetscReal)(C->gstart + g) / (PetscReal)n;
  PetscCall(InterpolantCDF(C, nl, pts, loc));
  for (PetscInt i = 0; i < nl; i++) {
    loc[i].id = i < nlocal ? start + i : -1;
    loc[i].w  = i < nlocal ? (w ? w[i] : 1.0 / (PetscReal)C->N) : 0;
  }
  PetscCall(GatherNodes(C->comm, nl, loc, C->N + n, all));
  nn = (PetscInt)(C->N + n);
  qsort(all, (size_t)nn, sizeof(Node), CompareNodes); /* ties: grid node before particle, then by id: a total order */
  all[nn]     = all[0]; /* the grid node at x = 0 (F = 0) closes the circle at x = L */
  all[nn].x   = L;
  all[nn].F   = creal(C->chat[0]);
  all[nn].id  = -1;
  all[nn].w   = 0;
  nn++;
  *w1 = SweepPieces(nn, all, MedianG(nn, all, L), L, PETSC_FALSE);
  PetscCall(PetscFree(pts));
  PetscCall(PetscFree(loc));
  PetscCall(PetscFree(all));
  PetscFunctionReturn(PETSC_SUCCESS);
}

PetscErrorCode KfCompareDistances(KfCompare C, Vec rho, PetscInt nlocal, const PetscReal x[], const PetscReal w[], PetscReal energy_particles, KfCompareDist *dist)
{
  PetscFunctionBeginUser;
  PetscCall(PetscLogEventBegin(KF_EVENT_COMPARE, 0, 0, 0, 0));
  PetscCall(GatherCoefficients(C, rho));
  PetscCall(Hminus(C, nlocal, x, w, energy_particles, dist));
  dist->w1 = NAN;
  if (C->p->dim == 1) PetscCall(CircleW1(C, nlocal, x, w, &dist->w1));
  PetscCall(PetscLogEventEnd(KF_EVENT_COMPARE, 0, 0, 0, 0));
  PetscFunctionReturn(PETSC_SUCCESS);
}
