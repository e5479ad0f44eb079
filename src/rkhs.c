/* rkhs.c - conjugate gradients for (K_mu + lambda) xi = K_mu V with ring-passing mat-vecs (math spec E, row 4) */
#include "kf_rkhs.h"

struct _p_KfRkhs {
  KfRing     ring;
  KfKernel   kernel;
  PetscInt   n, ldt, maxit, last;
  PetscInt64 total;
  PetscReal  lambda, rtol;
  PetscReal *x, *r, *p, *Ap, *q, *grad, *v; /* iterate, residual, direction, A p, charges, gradients (unused), dot terms */
  PetscBool  started;
};

PetscErrorCode KfRkhsCreate(KfRing R, KfKernel k, PetscInt nlocal, PetscInt ldt, PetscReal lambda, PetscReal rtol, PetscInt maxit, KfRkhs *out)
{
  KfRkhs S;

  PetscFunctionBeginUser;
  PetscCall(PetscNew(&S));
  S->ring   = R;
  S->kernel = k;
  S->n      = nlocal;
  S->ldt    = ldt;
  S->lambda = lambda;
  S->rtol   = rtol;
  S->maxit  = maxit;
  PetscCall(PetscCalloc7(ldt, &S->x, ldt, &S->r, ldt, &S->p, ldt, &S->Ap, PetscMax(1, nlocal), &S->q, KF_MAX_DIM * ldt, &S->grad, PetscMax(1, nlocal), &S->v));
  *out = S;
  PetscFunctionReturn(PETSC_SUCCESS);
}

PetscErrorCode KfRkhsDestroy(KfRkhs *S)
{
  PetscFunctionBeginUser;
  if (!*S) PetscFunctionReturn(PETSC_SUCCESS);
  PetscCall(PetscFree7((*S)->x, (*S)->r, (*S)->p, (*S)->Ap, (*S)->q, (*S)->grad, (*S)->v));
  PetscCall(PetscFree(*S));
  PetscFunctionReturn(PETSC_SUCCESS);
}

/* y = K_mu h (+ lambda h with shift): one ring pass with charges w_j h_j. */
static PetscErrorCode Apply(KfRkhs S, const PetscReal xt[], const PetscReal xs[], const PetscReal w[], const PetscReal h[], PetscBool shift, PetscReal y[])
{
  PetscFunctionBeginUser;
  for (PetscInt i = 0; i < S->n; i++) S->q[i] = w[i] * h[i];
  PetscCall(KfRingSum(S->ring, S->kernel, S->n, S->ldt, xt, xs, S->q, S->grad, y));
  if (shift)
    for (PetscInt i = 0; i < S->n; i++) y[i] += S->lambda * h[i];
  PetscFunctionReturn(PETSC_SUCCESS);
}

/* <a, b>_w by the ring's reproducible reduction. */
static PetscErrorCode Dot(KfRkhs S, const PetscReal w[], const PetscReal a[], const PetscReal b[], PetscReal *out)
{
  PetscFunctionBeginUser;
  for (PetscInt i = 0; i < S->n; i++) S->v[i] = w[i] * a[i] * b[i];
  PetscCall(KfRingReduce(S->ring, 1, S->v, out));
  PetscFunctionReturn(PETSC_SUCCESS);
}

PetscErrorCode KfRkhsSolve(KfRkhs S, const PetscReal xt[], const PetscReal xs[], const PetscReal w[], const PetscReal V[], PetscReal xi[])
{
  const PetscInt n = S->n;
  PetscReal      bb, rr, pAp, tol2;
  PetscInt       it = 0;

  PetscFunctionBeginUser;
  PetscCall(Apply(S, xt, xs, w, V, PETSC_FALSE, S->Ap)); /* the right-hand side K_mu V, in Ap for now */
  PetscCall(Dot(S, w, S->Ap, S->Ap, &bb));
  if (bb == 0) { /* V constant on the support: no direction */
    PetscCall(PetscArrayzero(xi, n));
    S->last = 0;
    PetscFunctionReturn(PETSC_SUCCESS);
  }
  if (!S->started) PetscCall(PetscArrayzero(S->x, S->ldt));
  PetscCall(PetscArraycpy(S->r, S->Ap, n));
  PetscCall(Apply(S, xt, xs, w, S->x, PETSC_TRUE, S->Ap));
  for (PetscInt i = 0; i < n; i++) {
    S->r[i] -= S->Ap[i];
    S->p[i] = S->r[i];
  }
  PetscCall(Dot(S, w, S->r, S->r, &rr));
  tol2 = S->rtol * S->rtol * bb;
  while (rr > tol2) {
    PetscReal a, beta, old = rr;

    PetscCheck(it < S->maxit, PETSC_COMM_WORLD, KF_ERR_NONFINITE, "RKHS regression (-fr_rkhs_lambda %g): conjugate gradients did not reach -fr_rkhs_rtol %g in %" PetscInt_FMT " iterations (residual %g); a larger lambda conditions the system better", (double)S->lambda, (double)S->rtol, S->maxit, (double)PetscSqrtReal(rr / bb));
    PetscCall(Apply(S, xt, xs, w, S->p, PETSC_TRUE, S->Ap));
    PetscCall(Dot(S, w, S->p, S->Ap, &pAp));
    a = old / pAp;
    for (PetscInt i = 0; i < n; i++) {
      S->x[i] += a * S->p[i];
      S->r[i] -= a * S->Ap[i];
    }
    PetscCall(Dot(S, w, S->r, S->r, &rr));
    beta = rr / old;
    for (PetscInt i = 0; i < n; i++) S->p[i] = S->r[i] + beta * S->p[i];
    it++;
  }
  S->started = PETSC_TRUE;
  S->last    = it;
  S->total += it;
  PetscCall(PetscArraycpy(xi, S->x, n));
  PetscFunctionReturn(PETSC_SUCCESS);
}

void KfRkhsGetIterations(KfRkhs S, PetscInt *last, PetscInt64 *total)
{
  if (last) *last = S->last;
  if (total) *total = S->total;
}
