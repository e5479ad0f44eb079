/* test_ewald.c - unit tests of the Ewald-split Sobolev kernel (src/ewald.c) against math spec A.2, A.3, B.3 and G2

   References, none of which shares code with the Ewald sums:
   - d = 1, integer s: the Bernoulli closed forms of A.3.
   - any d and s: the Fourier series itself, summed exactly along one axis. For fixed k' (the other
     components), Poisson summation turns sum_{k_d} (|k'|^2 + k_d^2)^{-s} e^{2 pi i k_d y} into a sum of
     Bessel K functions (DLMF 10.32.11) that falls like e^{-2 pi |k'| dist(y, Z)}; the row k' = 0 is
     2 Re Li_{2s}(e^{2 pi i y}) by the expansion of the polylogarithm about 1 (DLMF 25.12.12). A plainly
     truncated sum would not do: its error falls only like N^{-3} for d = 2, s = 2, and 1e-12 would
     need ~1e9 terms per point.
   - the generalized exponential integral E_p: 40-digit values from mpmath 1.3.0 (expint(p, z)),
     adaptive quadrature (GSL QAGIU), the recurrence p E_{p+1} + z E_p = e^{-z}, and GSL's expint_En.
   The relative errors use a floor: |v - ref| / max(|ref|, S) with S the largest |ref| over the sample
   points with |x|_inf >= L/8, so they are pointwise near a singularity of the kernel and relative to
   the kernel's size where it crosses zero. Sample points are the same on every rank and are split
   cyclically, so the output does not depend on the rank count. Exits with status 0 only when every
   check passed on every rank. */
#include <complex.h>
#include <math.h>
#include <stdio.h>
#include <string.h>
#include <gsl/gsl_errno.h>
#include <gsl/gsl_integration.h>
#include <gsl/gsl_sf_bessel.h>
#include <gsl/gsl_sf_clausen.h>
#include <gsl/gsl_sf_expint.h>
#include <gsl/gsl_sf_gamma.h>
#include <gsl/gsl_sf_zeta.h>
#include "kf_ewald.h"
#include "kf_kernel.h"
#include "kf_rng.h"
#include "kf_test.h"

#define TOL_G2 1e-12     /* math spec G2: Ewald against the references, relative */
#define TOL_EWALD 1e-13  /* the tolerance the objects are made with (the default of the solver) */
#define TOL_EXPINT 1e-14 /* E_p against 40-digit values, relative */
#define TOL_SYM 1e-13    /* identities that hold up to the rounding of the argument (x + L, L x / L) */
#define TOL_REF 1e-13    /* the references against each other (closed forms, GSL) */
#define TOL_FD 1e-9      /* gradient against 4th-order centred differences, h = 1e-3 |x| */
#define TOL_TABLE 2e-14  /* the short part's E_p table against KfExpIntE, relative to the E_p term (the table's own check) */
#define TOL_TILE 1e-14   /* the SIMD tile against the scalar short part, relative to sum_j |q_j term_j| */

#define CATALAN 0.91596559417721901505460351493238411 /* Dirichlet beta(2) */

static char label[64];

static PetscErrorCode SetLabel(PetscInt d, PetscReal s, PetscReal L)
{
  char sbuf[32];

  PetscFunctionBeginUser;
  snprintf(sbuf, sizeof(sbuf), "%.10g", (double)s); /* not PETSc's %g, which writes 1 as "1." */
  PetscCall(PetscSNPrintf(label, sizeof(label), "d=%" PetscInt_FMT " s=%s%s", d, sbuf, L == 1 ? "" : " L=2pi"));
  PetscFunctionReturn(PETSC_SUCCESS);
}

static PetscReal RelErr(PetscReal v, PetscReal ref, PetscReal floor)
{
  return PetscAbsReal(v - ref) / PetscMax(PetscAbsReal(ref), floor);
}

static PetscReal GradErr(PetscInt d, const PetscReal g[], const PetscReal ref[], PetscReal floor)
{
  PetscReal num = 0, den = 0;

  for (PetscInt j = 0; j < d; j++) {
    num += PetscSqr(g[j] - ref[j]);
    den += PetscSqr(ref[j]);
  }
  return PetscSqrtReal(num) / PetscMax(PetscSqrtReal(den), floor);
}

static PetscErrorCode Where(char buf[], size_t len, PetscInt d, const PetscReal x[], PetscReal v, PetscReal ref)
{
  PetscFunctionBeginUser;
  PetscCall(PetscSNPrintf(buf, len, "x = (%.6g, %.6g, %.6g): %.17g vs reference %.17g", (double)x[0], d > 1 ? (double)x[1] : 0.0, d > 2 ? (double)x[2] : 0.0, (double)v, (double)ref));
  PetscFunctionReturn(PETSC_SUCCESS);
}

/* ------------------------------------------------------------------------------ sample points */

/*
  Point i of a sample of the unit cell [-1/2, 1/2)^d, identical on every rank. The first NNEAR lie close to
  the origin (|x|_inf = near[i], a fixed skew direction), where the short-range part dominates and E_p is
  evaluated at small z; the rest are uniform with max_j dist(x_j, Z) >= mindist (what the Fourier
  reference needs to converge).
*/
#define NNEAR 5
static void SamplePoint(PetscInt d, PetscInt i, PetscReal mindist, PetscReal x[KF_MAX_DIM])
{
  const PetscReal near[NNEAR] = {1e-6, 0.003, 0.02, 0.06, 0.15}, dir[KF_MAX_DIM] = {1.0, -0.62, 0.37};

  x[0] = x[1] = x[2] = 0;
  if (i < NNEAR) {
    const PetscReal r = PetscMax(near[i], mindist);

    for (PetscInt j = 0; j < d; j++) x[j] = r * dir[j];
    return;
  }
  for (uint64_t c = 0;; c++) {
    PetscReal m = 0;

    for (PetscInt j = 0; j < d; j++) {
      x[j] = KfRngUniform(2024, (uint64_t)(10 * d), 4 * (1000 * c + (uint64_t)i) + (uint64_t)j) - 0.5;
      m    = PetscMax(m, PetscAbsReal(x[j]));
    }
    if (m >= mindist) return;
  }
}

static PetscBool Far(PetscInt d, const PetscReal x[])
{
  for (PetscInt j = 0; j < d; j++)
    if (PetscAbsReal(x[j]) >= 0.125) return PETSC_TRUE;
  return PETSC_FALSE;
}

/* The floors of the relative errors: the largest |K| and |grad K| of an object over the sample points with
   |x|_inf >= 1/8 (times L); every rank computes all of them, so all agree. */
static PetscErrorCode Floors(KfEwald ew, PetscInt d, PetscReal L, PetscInt npts, PetscReal *S, PetscReal *SG)
{
  PetscFunctionBeginUser;
  *S = *SG = 0;
  for (PetscInt i = NNEAR; i < npts; i++) {
    PetscReal x[KF_MAX_DIM], K, g[KF_MAX_DIM], gn = 0;

    SamplePoint(d, i, 0, x);
    if (!Far(d, x)) continue;
    for (PetscInt j = 0; j < d; j++) x[j] *= L;
    PetscCall(KfEwaldEval(ew, x, &K, g));
    for (PetscInt j = 0; j < d; j++) gn += g[j] * g[j];
    *S  = PetscMax(*S, PetscAbsReal(K));
    *SG = PetscMax(*SG, PetscSqrtReal(gn));
  }
  PetscFunctionReturn(PETSC_SUCCESS);
}

/* ------------------------------------------------------------------------------ references */

/* d = 1, L = 1, integer s = 1, 2, 3: A.3, K_s = (-1)^{s+1} B_{2s}({x})/(2s)!, K_s' = (-1)^{s+1} B_{2s-1}({x})/(2s-1)!. */
static void Bernoulli(PetscInt s, PetscReal x, PetscReal *K, PetscReal *dK)
{
  const PetscReal t = x - floor(x);

  switch (s) {
  case 1:
    *K  = 0.5 * (t * t - t) + 1.0 / 12;
    *dK = t - 0.5;
    break;
  case 2:
    *K  = -(t * t * t * t - 2 * t * t * t + t * t - 1.0 / 30) / 24;
    *dK = -(t * t * t - 1.5 * t * t + 0.5 * t) / 6;
    break;
  default:
    *K  = (((((t - 3) * t + 2.5) * t) * t - 0.5) * t * t + 1.0 / 42) / 720;
    *dK = ((((t - 2.5) * t + 5.0 / 3) * t) * t * t - t / 6) / 120;
  }
  if (t == 0) *dK = 0; /* the convention K'(0) = 0 of A.3 (the jump of s = 1; continuous otherwise) */
}

/*
  Li_sigma(e^{i theta}) for real sigma and 0 < |theta| <= pi (DLMF 25.12.12): with w = i theta,
    sigma not in {1, 2, ...}: Gamma(1 - sigma) (-w)^{sigma-1} + sum_k zeta(sigma - k) w^k / k!,
    sigma = n:                w^{n-1}/(n-1)! (H_{n-1} - log(-w)) + sum_{k != n-1} zeta(n - k) w^k / k!.
  The terms fall like (theta/(2 pi))^k.
*/
static double _Complex PolyLogUnit(double sigma, double theta)
{
  const double _Complex w = I * theta;
  const PetscBool isint   = (PetscBool)(sigma >= 1 && sigma == floor(sigma));
  double _Complex sum = 0, wk = 1; /* w^k/k! */

  /* |zeta(sigma - k)| w^k/k! ~ 2 (theta/(2 pi))^k/(2 pi) <= 2^{-k}/pi; a fixed count, since zeta vanishes at the negative even integers. */
  for (int k = 0; k < 120; k++) {
    if (!(isint && k == (int)sigma - 1)) sum += gsl_sf_zeta(sigma - k) * wk;
    wk *= w / (k + 1);
  }
  if (isint) {
    const int n = (int)sigma;
    double    h = 0, fact = 1;
    double _Complex wn = 1;

    for (int j = 1; j < n; j++) {
      h += 1.0 / j;
      fact *= j;
      wn *= w;
    }
    return sum + wn / fact * (h - clog(-w));
  }
  return sum + tgamma(1 - sigma) * cpow(-w, sigma - 1);
}

/* sum_{k != 0} |k|^{-sigma} e^{2 pi i k y} = 2 Re Li_sigma(e^{2 pi i y}) and its y-derivative -4 pi Im Li_{sigma-1}. */
static void Row1D(double sigma, double y, double *R, double *Ry)
{
  double th = 2 * PETSC_PI * (y - floor(y));

  if (th > PETSC_PI) th -= 2 * PETSC_PI;
  *R  = 2 * creal(PolyLogUnit(sigma, th));
  *Ry = -4 * PETSC_PI * cimag(PolyLogUnit(sigma - 1, th));
}

/* e^x K_nu(x) */
static double BesselKScaled(double nu, double x)
{
  nu = fabs(nu);
  if (nu == 0) return gsl_sf_bessel_K0_scaled(x);
  if (nu == 1) return gsl_sf_bessel_K1_scaled(x);
  if (nu == 0.5) return sqrt(PETSC_PI / (2 * x));
  return gsl_sf_bessel_Knu_scaled(nu, x);
}

/*
  sum_{k in Z} (a^2 + k^2)^{-s} e^{2 pi i k y}, a > 0, and its y-derivative, by Poisson summation:
  sum_n F(2 pi (y + n)) with F(w) = C |w|^nu K_nu(a |w|), nu = s - 1/2, C = 2 sqrt(pi) / (Gamma(s) (2a)^nu),
  and F'(w) = -sign(w) C a |w|^nu K_{nu-1}(a |w|) (from d/dz (z^nu K_nu(z)) = -z^nu K_{nu-1}(z)).
*/
static void BesselRow(double s, double a, double y, double *R, double *Ry)
{
  const double nu = s - 0.5, C = 2 * sqrt(PETSC_PI) / (tgamma(s) * pow(2 * a, nu));

  y -= floor(y + 0.5);
  *R = *Ry = 0;
  for (int n = -12; n <= 12; n++) {
    const double w = 2 * PETSC_PI * (y + n), aw = a * fabs(w), e = exp(-aw);

    if (aw > 60 || w == 0) continue;
    *R += C * pow(fabs(w), nu) * BesselKScaled(nu, aw) * e;
    *Ry += -2 * PETSC_PI * (w > 0 ? 1 : -1) * C * a * pow(fabs(w), nu) * BesselKScaled(nu - 1, aw) * e;
  }
}

/*
  K_s(x) and grad K_s(x) on the unit torus from the Fourier series, summed exactly along the axis "ax"
  farthest from the integers (its distance dist sets the convergence e^{-2 pi |k'| dist}):
    K = (2 pi)^{-2s} [ sum_{k' != 0} cos(2 pi k'.x') R(|k'|, x_ax) + Row1D(2s, x_ax) ].
*/
static PetscErrorCode FourierRef(PetscInt d, PetscReal s, const PetscReal x[], PetscReal *K, PetscReal g[])
{
  PetscInt   ax = 0, o[2] = {0, 0}, no = 0, A, A2;
  PetscReal  dist = -1, y, k0, ky, gs[KF_MAX_DIM] = {0, 0, 0}, scale = pow(2 * PETSC_PI, -2 * s);
  PetscReal *R, *Ry, *cs[2];

  PetscFunctionBeginUser;
  for (PetscInt j = 0; j < d; j++) {
    const PetscReal dj = PetscAbsReal(x[j] - floor(x[j] + 0.5));

    if (dj > dist) {
      dist = dj;
      ax   = j;
    }
  }
  for (PetscInt j = 0; j < d; j++)
    if (j != ax) o[no++] = j;
  y = x[ax];
  Row1D(2 * s, y, &k0, &ky);
  if (d == 1) {
    *K   = scale * k0;
    g[0] = scale * ky;
    PetscFunctionReturn(PETSC_SUCCESS);
  }
  A  = (PetscInt)ceil(48 / (2 * PETSC_PI * dist)) + 2;
  A2 = A * A;
  PetscCall(PetscMalloc2(A2 + 1, &R, A2 + 1, &Ry));
  for (PetscInt q = 0; q <= A2; q++) R[q] = PETSC_INFINITY; /* computed on first use */
  PetscCall(PetscMalloc2(2 * (2 * A + 1), &cs[0], 2 * (2 * A + 1), &cs[1]));
  for (PetscInt i = 0; i < no; i++)
    for (PetscInt k = -A; k <= A; k++) {
      cs[i][2 * (k + A)]     = cos(2 * PETSC_PI * k * x[o[i]]);
      cs[i][2 * (k + A) + 1] = sin(2 * PETSC_PI * k * x[o[i]]);
    }
  {
    const PetscInt A1 = no > 1 ? A : 0;

    for (PetscInt k1 = -A; k1 <= A; k1++)
      for (PetscInt k2 = -A1; k2 <= A1; k2++) {
        const PetscInt q = k1 * k1 + k2 * k2;
        PetscReal      c1, s1, c2 = 1, s2 = 0, c, sn;

        if (!q || q > A2) continue;
        if (R[q] == PETSC_INFINITY) BesselRow(s, PetscSqrtReal((PetscReal)q), y, &R[q], &Ry[q]);
        c1 = cs[0][2 * (k1 + A)], s1 = cs[0][2 * (k1 + A) + 1];
        if (no > 1) c2 = cs[1][2 * (k2 + A)], s2 = cs[1][2 * (k2 + A) + 1];
        c  = c1 * c2 - s1 * s2;
        sn = s1 * c2 + c1 * s2;
        k0 += c * R[q];
        ky += c * Ry[q];
        gs[o[0]] += -2 * PETSC_PI * k1 * sn * R[q];
        if (no > 1) gs[o[1]] += -2 * PETSC_PI * k2 * sn * R[q];
      }
  }
  gs[ax] = ky;
  *K     = scale * k0;
  for (PetscInt j = 0; j < d; j++) g[j] = scale * gs[j];
  PetscCall(PetscFree2(cs[0], cs[1]));
  PetscCall(PetscFree2(R, Ry));
  PetscFunctionReturn(PETSC_SUCCESS);
}

/* ------------------------------------------------------------------------------ E_p */

static double ExpIntIntegrand(double t, void *ctx)
{
  const double *pz = (const double *)ctx;

  return pow(t, -pz[0]) * exp(-pz[1] * t);
}

static PetscErrorCode TestExpInt(void)
{
  /* mpmath 1.3.0, mp.dps = 40: expint(p, z), printed to 20 digits */
  /* clang-format off */
  static const double tab[][3] = {
    {-1.4, 1e-12, 7.8375587100313693768e+28},  {-1.4, 0.001, 19687056.963514896037},     {-1.4, 0.3, 22.002465467003451809},        {-1.4, 0.99, 1.060257114565005434},
    {-1.4, 1, 1.0313174685425209173},          {-1.4, 2.5, 0.053698446840865014875},     {-1.4, 30, 3.2666746132992149929e-15},     {-0.5, 1e-12, 886226925452758039.72},
    {-0.5, 0.001, 28024.289815180155841},      {-0.5, 0.3, 4.8348231248179448809},       {-0.5, 0.99, 0.51873170015119194492},      {-0.5, 1, 0.50728223381177330985},
    {-0.5, 2.5, 0.038516859391417469348},      {-0.5, 30, 3.1703680836903363766e-15},    {-0.2, 1e-12, 230633560587016.60077},      {-0.2, 0.001, 3654.4627223302268644},
    {-0.2, 0.3, 3.1838075600042256038},        {-0.2, 0.99, 0.42475905023567540379},     {-0.2, 1, 0.41597351588531027791},         {-0.2, 2.5, 0.034931703395893520109},
    {-0.2, 30, 3.1394783547625573187e-15},     {0, 1e-12, 999999999999.00002011},        {0, 0.001, 999.00049983337497085},         {0, 0.3, 2.4693940689390596724},
    {0, 0.99, 0.37532999093135929007},         {0, 1, 0.3678794411714423216},            {0, 2.5, 0.032833999449559518068},         {0, 30, 3.1192076562800582016e-15},
    {0.3, 1e-12, 326056756.3140341604},        {0.3, 0.001, 161.98750104007668663},      {0.3, 0.3, 1.7475261750299809351},         {0.3, 0.99, 0.31590920386783851861},
    {0.3, 1, 0.30999167873682115366},          {0.3, 2.5, 0.030055389973400437082},      {0.3, 30, 3.0892736141249122279e-15},      {0.5, 1e-12, 1772451.8509055160458},
    {0.5, 0.001, 54.050578630693562866},       {0.5, 0.3, 1.4192574335273310726},        {0.5, 0.99, 0.28393538425526865406},       {0.5, 1, 0.2788055852806619765},
    {0.5, 2.5, 0.028414299709289756402},       {0.5, 30, 3.0696256446166904981e-15},     {0.9999999, 1e-12, 27.053842128727388542}, {0.9999999, 0.001, 6.3315414500699252309},
    {0.9999999, 0.3, 0.90567672464081123997},  {0.9999999, 0.99, 0.22309983579684973045}, {0.9999999, 1, 0.21938394417984034623},    {0.9999999, 2.5, 0.024914918495290179027},
    {0.9999999, 30, 3.0215520201571688121e-15}, {1, 1e-12, 27.053805451028015368},          {1, 0.001, 6.3315393641361493112},         {1, 0.3, 0.90567665167584673985},
    {1, 0.99, 0.22309982579017724023},         {1, 1, 0.21938393439552027368},           {1, 2.5, 0.024914917870269735496},         {1, 30, 3.0215520106888125448e-15},
    {1.0000001, 1e-12, 27.053768773395041501}, {1.0000001, 0.001, 6.3315372782033128852}, {1.0000001, 0.3, 0.90567657871089116616},  {1.0000001, 0.99, 0.22309981578350547087},
    {1.0000001, 1, 0.21938392461120090233},    {1.0000001, 2.5, 0.024914917245249318361}, {1.0000001, 30, 3.0215520012204563247e-15}, {1.3, 1e-12, 3.3322464774756193945},
    {1.3, 0.001, 2.7900433293109940982},       {1.3, 0.3, 0.72186789390907870887},       {1.3, 0.99, 0.1960885973096185468},        {1.3, 1, 0.19295920811540389587},
    {1.3, 2.5, 0.023155078967992342101},       {1.3, 30, 2.9934042155145974832e-15},     {1.5, 1e-12, 1.999996455094298189},        {1.5, 0.001, 1.8898998424053628553},
    {1.5, 0.3, 0.63008198124703713653},        {1.5, 0.99, 0.18096132121865945767},      {1.5, 1, 0.17814771178156069019},          {1.5, 2.5, 0.022098498701348808331},
    {1.5, 30, 2.9749206998020622093e-15},      {2, 1e-12, 0.99999999997194619455},       {2, 0.001, 0.9926689604692388422},         {2, 0.3, 0.46911522517896386239},
    {2, 0.99, 0.15070786348977022798},         {2, 1, 0.14849550677592204792},           {2, 2.5, 0.01979770394822445643},          {2, 30, 2.9296693677373697047e-15},
    {2.5, 1e-12, 0.66666666666466666903},      {2.5, 0.001, 0.6647403999939797525},      {2.5, 0.3, 0.36786241753840449355},        {2.5, 0.99, 0.12828332201038188823},
    {2.5, 1, 0.12648781959325442094},          {2.5, 2.5, 0.017892501247017849561},      {2.5, 30, 2.8857391295599198461e-15},      {3.5, 1e-12, 0.39999999999933333333},
    {3.5, 0.001, 0.39933430377335240475},      {3.5, 0.3, 0.25218379816807861212},       {3.5, 0.99, 0.097830480892707050249},      {3.5, 1, 0.096556648631275160264},
    {3.5, 2.5, 0.014941498202541668507},       {3.5, 30, 2.8016223206416602666e-15},     {10.5, 1e-12, 0.10526315789461919505},     {10.5, 0.001, 0.10514557747694652762},
    {10.5, 0.3, 0.07533386912330518363},       {10.5, 0.99, 0.035081145431720552819},    {10.5, 1, 0.034696365957232469293},        {10.5, 2.5, 0.0067183393184565234512},
    {10.5, 30, 2.3248844367338701273e-15},
  };
  /* clang-format on */
  const double ps[] = {-1.45, -1, -0.7, -0.5, -0.2, 0, 1e-9, 0.25, 0.5, 0.75, 1 - 1e-9, 1, 1 + 1e-9, 1.25, 1.5, 2, 2.5, 3, 3.7, 6, 12.5};
  const double zs[] = {1e-9, 1e-4, 0.01, 0.1, 0.37, 0.7, 0.999, 1, 1.001, 1.6, 3, 7, 15, 31, 60};
  KfTestErr    e;
  char         where[200];

  PetscFunctionBeginUser;
  PetscCall(PetscStrncpy(label, "E_p(z)", sizeof(label)));
  KfTestErrReset(&e);
  for (size_t i = 0; i < sizeof(tab) / sizeof(tab[0]); i++) {
    const double v = KfExpIntE(tab[i][0], tab[i][1]);

    PetscCall(PetscSNPrintf(where, sizeof(where), "E_%.17g(%g) = %.17g vs %.17g", tab[i][0], tab[i][1], v, tab[i][2]));
    PetscCall(KfTestErrUpdate(&e, fabs(v - tab[i][2]) / tab[i][2], where));
  }
  PetscCall(KfTestCheck(PETSC_COMM_WORLD, label, "KfExpIntE vs mpmath, 105 (p, z), relative", &e, TOL_EXPINT));

  /* p E_{p+1}(z) + z E_p(z) = e^{-z}: both terms are positive for p >= 0, so this bounds the error of each. */
  KfTestErrReset(&e);
  for (size_t i = 0; i < sizeof(ps) / sizeof(ps[0]); i++)
    for (size_t j = 0; j < sizeof(zs) / sizeof(zs[0]); j++) {
      const double p = ps[i], z = zs[j], lhs = p * KfExpIntE(p + 1, z) + z * KfExpIntE(p, z), rhs = exp(-z);

      if (p < 0) continue;
      PetscCall(PetscSNPrintf(where, sizeof(where), "p = %.17g, z = %g: %.17g vs %.17g", p, z, lhs, rhs));
      PetscCall(KfTestErrUpdate(&e, fabs(lhs - rhs) / rhs, where));
    }
  PetscCall(KfTestCheck(PETSC_COMM_WORLD, label, "p E_{p+1} + z E_p = e^{-z}, 0 <= p <= 12.5", &e, 4 * TOL_EXPINT));

  /* Quadrature of the definition (GSL QAGIU, epsrel 1e-13) */
  {
    gsl_integration_workspace *w = gsl_integration_workspace_alloc(1000);

    KfTestErrReset(&e);
    for (size_t i = 0; i < sizeof(ps) / sizeof(ps[0]); i++)
      for (size_t j = 0; j < sizeof(zs) / sizeof(zs[0]); j++) {
        double       pz[2] = {ps[i], zs[j]}, val, aerr, v;
        gsl_function f     = {ExpIntIntegrand, pz};

        if (zs[j] < 0.01) continue; /* slowly decaying integrand: QAGIU misjudges its error there (the mpmath values cover it) */
        if (gsl_integration_qagiu(&f, 1, 0, 1e-13, 1000, w, &val, &aerr)) continue;
        v = KfExpIntE(ps[i], zs[j]);
        PetscCall(PetscSNPrintf(where, sizeof(where), "p = %.17g, z = %g: %.17g vs %.17g (+- %.1e)", ps[i], zs[j], v, val, aerr));
        PetscCall(KfTestErrUpdate(&e, fabs(v - val) / val, where));
      }
    gsl_integration_workspace_free(w);
    PetscCall(KfTestCheck(PETSC_COMM_WORLD, label, "KfExpIntE vs quadrature (GSL QAGIU)", &e, 1e-12));
  }

  /* Integer orders: GSL's expint_En */
  KfTestErrReset(&e);
  for (int n = 0; n <= 6; n++)
    for (size_t j = 0; j < sizeof(zs) / sizeof(zs[0]); j++) {
      const double v = KfExpIntE(n, zs[j]), ref = gsl_sf_expint_En(n, zs[j]);

      PetscCall(PetscSNPrintf(where, sizeof(where), "n = %d, z = %g: %.17g vs %.17g", n, zs[j], v, ref));
      PetscCall(KfTestErrUpdate(&e, fabs(v - ref) / ref, where));
    }
  PetscCall(KfTestCheck(PETSC_COMM_WORLD, label, "KfExpIntE vs gsl_sf_expint_En, n = 0..6", &e, TOL_REF));

  /* GSL's gamma_inc (the routine B.3 suggests) agrees for z >= 0.5 only; below it loses up to 5 digits
     (6e-5 at a = -0.3, z = 1e-4), which is why ewald.c has its own E_p. */
  KfTestErrReset(&e);
  for (size_t i = 0; i < sizeof(ps) / sizeof(ps[0]); i++)
    for (size_t j = 0; j < sizeof(zs) / sizeof(zs[0]); j++) {
      gsl_sf_result r;
      double        v, ref;

      if (zs[j] < 0.5 || gsl_sf_gamma_inc_e(1 - ps[i], zs[j], &r)) continue;
      ref = pow(zs[j], ps[i] - 1) * r.val;
      v   = KfExpIntE(ps[i], zs[j]);
      PetscCall(PetscSNPrintf(where, sizeof(where), "p = %.17g, z = %g: %.17g vs %.17g", ps[i], zs[j], v, ref));
      PetscCall(KfTestErrUpdate(&e, fabs(v - ref) / ref, where));
    }
  PetscCall(KfTestCheck(PETSC_COMM_WORLD, label, "KfExpIntE vs z^{p-1} gsl_sf_gamma_inc(1-p, z), z >= 0.5", &e, 1e-12));

  KfTestErrReset(&e);
  PetscCall(KfTestErrUpdate(&e, (KfExpIntE(1.5, 0) == 2 && KfExpIntE(1, 0) == PETSC_INFINITY && KfExpIntE(1, -1) != KfExpIntE(1, -1)) ? 0 : 1, "E_1.5(0) = 2, E_1(0) = inf, E_1(-1) = NaN"));
  PetscCall(KfTestCheck(PETSC_COMM_WORLD, label, "E_p(0) = 1/(p-1) or inf; z < 0 gives NaN", &e, 0));
  PetscFunctionReturn(PETSC_SUCCESS);
}

/* The references against closed forms, so that a failure below points at the Ewald code. */
static PetscErrorCode TestReferences(void)
{
  KfTestErr e;
  char      where[200];
  PetscReal xs[] = {1e-7, 0.013, 0.2, 0.37, 0.5, 0.71, 0.9999};

  PetscFunctionBeginUser;
  PetscCall(PetscStrncpy(label, "references", sizeof(label)));
  KfTestErrReset(&e);
  for (PetscInt s = 1; s <= 3; s++)
    for (size_t i = 0; i < sizeof(xs) / sizeof(xs[0]); i++) {
      PetscReal K, dK, R, Ry, sc = pow(2 * PETSC_PI, -2.0 * s);

      Bernoulli(s, xs[i], &K, &dK);
      Row1D(2.0 * s, xs[i], &R, &Ry);
      PetscCall(PetscSNPrintf(where, sizeof(where), "s = %" PetscInt_FMT ", x = %g: K %.17g vs %.17g, K' %.17g vs %.17g", s, (double)xs[i], (double)(sc * R), (double)K, (double)(sc * Ry), (double)dK));
      PetscCall(KfTestErrUpdate(&e, PetscMax(PetscAbsReal(sc * R - K) / PetscAbsReal(K), PetscAbsReal(sc * Ry - dK) / 0.5), where));
    }
  PetscCall(KfTestCheck(PETSC_COMM_WORLD, label, "polylog row = Bernoulli (d = 1, s = 1, 2, 3)", &e, TOL_REF));
  KfTestErrReset(&e);
  for (size_t i = 0; i < sizeof(xs) / sizeof(xs[0]); i++) {
    const PetscReal th = 2 * PETSC_PI * xs[i];
    double _Complex l2 = PolyLogUnit(2, th > PETSC_PI ? th - 2 * PETSC_PI : th), l1 = PolyLogUnit(1, th > PETSC_PI ? th - 2 * PETSC_PI : th);
    /* -log(1 - e^{i theta}) = -log(2 sin(theta/2)) + i (pi - theta)/2 on (0, 2 pi), without the cancellation in 1 - e^{i theta} */
    const PetscReal e2 = PetscAbsReal(cimag(l2) - gsl_sf_clausen(th)), e1 = cabs(l1 - (-log(2 * sin(th / 2)) + I * (PETSC_PI - th) / 2));

    PetscCall(PetscSNPrintf(where, sizeof(where), "theta = %g: Im Li_2 %.17g vs Cl_2 %.17g; Li_1 off by %.1e", (double)th, cimag(l2), gsl_sf_clausen(th), (double)e1));
    PetscCall(KfTestErrUpdate(&e, PetscMax(e2, e1 / cabs(l1)), where));
  }
  PetscCall(KfTestCheck(PETSC_COMM_WORLD, label, "Im Li_2 = Clausen Cl_2 (GSL), Li_1 = -log(1 - e^{i theta})", &e, TOL_REF));
  /* s = 1: sum_k e^{2 pi i k y}/(a^2 + k^2) = (pi/a) cosh(pi a (1 - 2y))/sinh(pi a), 0 <= y <= 1 */
  KfTestErrReset(&e);
  for (PetscReal a = 1; a <= 40; a *= 1.7)
    for (size_t i = 0; i < sizeof(xs) / sizeof(xs[0]); i++) {
      const PetscReal y = xs[i], ref = PETSC_PI / a * cosh(PETSC_PI * a * (1 - 2 * y)) / sinh(PETSC_PI * a), dref = -2 * PETSC_PI * PETSC_PI * sinh(PETSC_PI * a * (1 - 2 * y)) / sinh(PETSC_PI * a);
      PetscReal       R, Ry;

      BesselRow(1, a, y, &R, &Ry);
      PetscCall(PetscSNPrintf(where, sizeof(where), "a = %g, y = %g: %.17g vs %.17g, derivative %.17g vs %.17g", (double)a, (double)y, (double)R, (double)ref, (double)Ry, (double)dref));
      /* relative to the row's largest value (at y -> 0), which is what its share of the lattice sum is measured against */
      PetscCall(KfTestErrUpdate(&e, PetscMax(PetscAbsReal(R - ref) / (PETSC_PI / a / tanh(PETSC_PI * a)), PetscAbsReal(Ry - dref) / (2 * PETSC_PI * PETSC_PI)), where));
    }
  PetscCall(KfTestCheck(PETSC_COMM_WORLD, label, "Bessel row (s = 1) = hyperbolic closed form", &e, TOL_REF));
  PetscFunctionReturn(PETSC_SUCCESS);
}

/* ------------------------------------------------------------------------------ Ewald checks */

/* G2, d = 1: Bernoulli closed forms at s = 1, 2, 3, including r = 0 and points next to it. */
static PetscErrorCode TestBernoulli(void)
{
  PetscMPIInt    rank, size;
  const PetscInt npts = 200;

  PetscFunctionBeginUser;
  PetscCallMPI(MPI_Comm_rank(PETSC_COMM_WORLD, &rank));
  PetscCallMPI(MPI_Comm_size(PETSC_COMM_WORLD, &size));
  for (PetscInt s = 1; s <= 3; s++) {
    KfEwald   ew;
    KfTestErr eK, eG;
    char      where[200];
    PetscReal S = 0, SG = 0;

    PetscCall(SetLabel(1, (PetscReal)s, 1));
    PetscCall(KfEwaldCreate(1, (PetscReal)s, 1, TOL_EWALD, &ew));
    KfTestErrReset(&eK);
    KfTestErrReset(&eG);
    for (PetscInt i = 4; i < npts; i++) { /* floors: the largest |K|, |K'| at |x - round(x)| >= 1/8 */
      const PetscReal x = 2 * KfRngUniform(7, (uint64_t)s, (uint64_t)i) - 1;
      PetscReal       Kr, gr;

      if (PetscAbsReal(x - round(x)) < 0.125) continue;
      Bernoulli(s, x, &Kr, &gr);
      S  = PetscMax(S, PetscAbsReal(Kr));
      SG = PetscMax(SG, PetscAbsReal(gr));
    }
    for (PetscInt i = rank; i < npts; i += size) {
      PetscReal x = i < 4 ? (PetscReal[]){0, 1e-9, -3e-5, 2e-3}[i] : 2 * KfRngUniform(7, (uint64_t)s, (uint64_t)i) - 1, K, g, Kr, gr;

      PetscCall(KfEwaldEval(ew, &x, &K, &g));
      Bernoulli(s, x, &Kr, &gr);
      PetscCall(Where(where, sizeof(where), 1, &x, K, Kr));
      PetscCall(KfTestErrUpdate(&eK, RelErr(K, Kr, S), where));
      PetscCall(Where(where, sizeof(where), 1, &x, g, gr));
      PetscCall(KfTestErrUpdate(&eG, RelErr(g, gr, SG), where));
    }
    PetscCall(KfTestCheck(PETSC_COMM_WORLD, label, "K = Bernoulli (x in [-1, 1), 0, 1e-9, ...)", &eK, TOL_G2));
    PetscCall(KfTestCheck(PETSC_COMM_WORLD, label, "K' = Bernoulli (K'(0) = 0 convention)", &eG, TOL_G2));
    PetscCall(KfEwaldDestroy(&ew));
  }
  PetscFunctionReturn(PETSC_SUCCESS);
}

/* G2: Ewald (default split, TOL_EWALD) against the Fourier reference; the floor S is the largest |K| at |x|_inf >= 1/8. */
static PetscErrorCode TestFourier(PetscInt d, PetscReal s, PetscInt npts, PetscReal mindist)
{
  PetscMPIInt rank, size;
  KfEwald     ew;
  KfTestErr   eK, eG;
  char        where[200];
  PetscReal   S = 0, SG = 0, gS, gSG;
  PetscReal  *ref; /* K and grad per local point */

  PetscFunctionBeginUser;
  PetscCallMPI(MPI_Comm_rank(PETSC_COMM_WORLD, &rank));
  PetscCallMPI(MPI_Comm_size(PETSC_COMM_WORLD, &size));
  PetscCall(SetLabel(d, s, 1));
  PetscCall(KfEwaldCreate(d, s, 1, TOL_EWALD, &ew));
  PetscCall(PetscMalloc1(4 * npts, &ref));
  for (PetscInt i = rank; i < npts; i += size) {
    PetscReal x[KF_MAX_DIM];

    SamplePoint(d, i, mindist, x);
    PetscCall(FourierRef(d, s, x, &ref[4 * i], &ref[4 * i + 1]));
    if (Far(d, x)) {
      PetscReal gn = 0;

      for (PetscInt j = 0; j < d; j++) gn += PetscSqr(ref[4 * i + 1 + j]);
      S  = PetscMax(S, PetscAbsReal(ref[4 * i]));
      SG = PetscMax(SG, PetscSqrtReal(gn));
    }
  }
  PetscCallMPI(MPI_Allreduce(&S, &gS, 1, MPIU_REAL, MPI_MAX, PETSC_COMM_WORLD));
  PetscCallMPI(MPI_Allreduce(&SG, &gSG, 1, MPIU_REAL, MPI_MAX, PETSC_COMM_WORLD));
  KfTestErrReset(&eK);
  KfTestErrReset(&eG);
  for (PetscInt i = rank; i < npts; i += size) {
    PetscReal x[KF_MAX_DIM], K, g[KF_MAX_DIM];

    SamplePoint(d, i, mindist, x);
    PetscCall(KfEwaldEval(ew, x, &K, g));
    PetscCall(Where(where, sizeof(where), d, x, K, ref[4 * i]));
    PetscCall(KfTestErrUpdate(&eK, RelErr(K, ref[4 * i], gS), where));
    PetscCall(Where(where, sizeof(where), d, x, g[0], ref[4 * i + 1]));
    PetscCall(KfTestErrUpdate(&eG, GradErr(d, g, &ref[4 * i + 1], gSG), where));
  }
  PetscCall(PetscSNPrintf(where, sizeof(where), "K = Fourier series (%" PetscInt_FMT " points)", npts));
  PetscCall(KfTestCheck(PETSC_COMM_WORLD, label, where, &eK, TOL_G2));
  PetscCall(PetscSNPrintf(where, sizeof(where), "grad K = Fourier series (%" PetscInt_FMT " points)", npts));
  PetscCall(KfTestCheck(PETSC_COMM_WORLD, label, where, &eG, TOL_G2));
  PetscCall(PetscFree(ref));
  PetscCall(KfEwaldDestroy(&ew));
  PetscFunctionReturn(PETSC_SUCCESS);
}

/*
  G2: tau0-independence. The default object against two others split at tau0/2 and 2 tau0 with r_c and M
  for 1e-15 (2 tau0 needs r_c > 1/2, so the image loop runs), at random points, near 0 and at 0.
*/
static PetscErrorCode TestSplit(PetscInt d, PetscReal s)
{
  PetscMPIInt     rank, size;
  const PetscInt  npts = d == 3 ? 60 : 120;
  const PetscReal lam  = -log(1e-15) + 3;
  KfEwald         ew, alt[2];
  PetscReal       tau0, S, SG;
  char            where[200];

  PetscFunctionBeginUser;
  PetscCallMPI(MPI_Comm_rank(PETSC_COMM_WORLD, &rank));
  PetscCallMPI(MPI_Comm_size(PETSC_COMM_WORLD, &size));
  PetscCall(SetLabel(d, s, 1));
  PetscCall(KfEwaldCreate(d, s, 1, TOL_EWALD, &ew));
  PetscCall(KfEwaldGetSplit(ew, &tau0, NULL, NULL, NULL));
  for (int a = 0; a < 2; a++) {
    const PetscReal t = tau0 * (a ? 2 : 0.5);

    PetscCall(KfEwaldCreateWithSplit(d, s, 1, t, PetscSqrtReal(4 * t * lam), PetscSqrtReal(lam / (4 * PETSC_PI * PETSC_PI * t)), &alt[a]));
  }
  PetscCall(Floors(ew, d, 1, npts, &S, &SG));
  for (int a = 0; a < 2; a++) {
    KfTestErr eK, eG;

    KfTestErrReset(&eK);
    KfTestErrReset(&eG);
    for (PetscInt i = rank; i <= npts; i += size) {
      PetscReal x[KF_MAX_DIM] = {0, 0, 0}, K, g[KF_MAX_DIM], K2, g2[KF_MAX_DIM];

      if (i < npts)
        SamplePoint(d, i, 0, x);
      else if (2 * s <= d)
        continue; /* r = 0 only where the self value is finite */
      PetscCall(KfEwaldEval(ew, x, &K, g));
      PetscCall(KfEwaldEval(alt[a], x, &K2, g2));
      PetscCall(Where(where, sizeof(where), d, x, K2, K));
      PetscCall(KfTestErrUpdate(&eK, RelErr(K2, K, S), where));
      PetscCall(Where(where, sizeof(where), d, x, g2[0], g[0]));
      PetscCall(KfTestErrUpdate(&eG, GradErr(d, g2, g, SG), where));
    }
    PetscCall(PetscSNPrintf(where, sizeof(where), "K independent of tau0 (tau0 x %s, r_c %.3f)", a ? "2" : "0.5", (double)PetscSqrtReal(4 * tau0 * (a ? 2 : 0.5) * lam)));
    PetscCall(KfTestCheck(PETSC_COMM_WORLD, label, where, &eK, TOL_G2));
    PetscCall(PetscSNPrintf(where, sizeof(where), "grad K independent of tau0 (tau0 x %s)", a ? "2" : "0.5"));
    PetscCall(KfTestCheck(PETSC_COMM_WORLD, label, where, &eG, TOL_G2));
    PetscCall(KfEwaldDestroy(&alt[a]));
  }
  PetscCall(KfEwaldDestroy(&ew));
  PetscFunctionReturn(PETSC_SUCCESS);
}

/*
  The meaning of tol at loose tolerances, where truncation and not rounding dominates: against an object
  with the same tau0 but r_c and M for e^{-40} (so the split functions are identical and only the
  truncation differs), |error| <= tol * floor for K and grad K. A quarter of the points lie within 1% of
  |x| = r_c = 1/2, where the short part is cut off.
*/
static PetscErrorCode TestTolerance(PetscInt d, PetscReal s, PetscReal tol)
{
  PetscMPIInt    rank, size;
  const PetscInt npts = d == 3 ? 400 : 800;
  KfEwald        ew, ref;
  PetscReal      tau0, S, SG;
  KfTestErr      e;
  char           where[200];

  PetscFunctionBeginUser;
  PetscCallMPI(MPI_Comm_rank(PETSC_COMM_WORLD, &rank));
  PetscCallMPI(MPI_Comm_size(PETSC_COMM_WORLD, &size));
  PetscCall(SetLabel(d, s, 1));
  PetscCall(KfEwaldCreate(d, s, 1, tol, &ew));
  PetscCall(KfEwaldGetSplit(ew, &tau0, NULL, NULL, NULL));
  PetscCall(KfEwaldCreateWithSplit(d, s, 1, tau0, PetscSqrtReal(4 * tau0 * 40), PetscSqrtReal(40 / (4 * PETSC_PI * PETSC_PI * tau0)), &ref));
  PetscCall(Floors(ref, d, 1, npts, &S, &SG));
  KfTestErrReset(&e);
  for (PetscInt i = rank; i < npts; i += size) {
    PetscReal x[KF_MAX_DIM], K, g[KF_MAX_DIM], Kr, gr[KF_MAX_DIM];

    SamplePoint(d, i, 0, x);
    if (i >= NNEAR && i % 4 == 0) { /* onto the shell |x| = 1/2 +- 1% */
      PetscReal r = 0, f;

      for (PetscInt j = 0; j < d; j++) r += x[j] * x[j];
      f = (0.5 + 0.01 * (2 * KfRngUniform(12, (uint64_t)d, (uint64_t)i) - 1)) / PetscSqrtReal(r);
      for (PetscInt j = 0; j < d; j++) x[j] *= f;
    }
    PetscCall(KfEwaldEval(ew, x, &K, g));
    PetscCall(KfEwaldEval(ref, x, &Kr, gr));
    PetscCall(Where(where, sizeof(where), d, x, K, Kr));
    PetscCall(KfTestErrUpdate(&e, PetscMax(RelErr(K, Kr, S), GradErr(d, g, gr, SG)) / tol, where));
  }
  PetscCall(PetscSNPrintf(where, sizeof(where), "tol = %s: K, grad K errors / tol (%" PetscInt_FMT " points)", KF_NUM(tol), npts));
  PetscCall(KfTestCheck(PETSC_COMM_WORLD, label, where, &e, 1));
  PetscCall(KfEwaldDestroy(&ref));
  PetscCall(KfEwaldDestroy(&ew));
  PetscFunctionReturn(PETSC_SUCCESS);
}

/* G2 and A.2: self values K_s(0) = (2 pi/L)^{-2s} Z_d(2s) with Z_1(2s) = 2 zeta(2s), Z_2(2s) = 4 zeta(s) beta(s). */
static PetscErrorCode TestSelfValues(void)
{
  KfEwald   ew;
  PetscReal k0, k0L;
  PetscBool finite;
  char      where[200];

  PetscFunctionBeginUser;
  PetscCall(PetscStrncpy(label, "self values", sizeof(label)));
  PetscCall(KfEwaldCreate(2, 2, 1, TOL_EWALD, &ew));
  PetscCall(KfEwaldSelfValue(ew, &k0, &finite));
  PetscCall(KfEwaldDestroy(&ew));
  {
    const PetscReal exact = 4 * gsl_sf_zeta(2) * CATALAN / pow(2 * PETSC_PI, 4);

    PetscCall(PetscSNPrintf(where, sizeof(where), "K_2(0) = %.17g vs 4 zeta(2) beta(2)/(2 pi)^4 = %.17g", (double)k0, (double)exact));
    PetscCall(KfTestCheckValue(PETSC_COMM_WORLD, label, "d=2: K_2(0) = 4 zeta(2) beta(2)/(2 pi)^4, relative", finite ? PetscAbsReal(k0 - exact) / exact : 1, TOL_G2, where));
    PetscCall(KfTestCheckValue(PETSC_COMM_WORLD, label, "d=2: K_2(0) = 0.0038669465907 (G2, absolute)", PetscAbsReal(k0 - 0.0038669465907), 1e-12, where));
  }
  /* With L = 2 pi, (2 pi/L)^{-2s} = 1 and K_s(0) is Z_d(2s) itself. */
  for (PetscInt s = 2; s <= 3; s++) {
    const PetscReal quoted = s == 2 ? 6.026812 : 4.658914, beta = s == 2 ? CATALAN : pow(PETSC_PI, 3) / 32, exact = 4 * gsl_sf_zeta((double)s) * beta;

    PetscCall(KfEwaldCreate(2, (PetscReal)s, 2 * PETSC_PI, TOL_EWALD, &ew));
    PetscCall(KfEwaldSelfValue(ew, &k0L, &finite));
    PetscCall(KfEwaldDestroy(&ew));
    PetscCall(KfEwaldCreate(2, (PetscReal)s, 1, TOL_EWALD, &ew));
    PetscCall(KfEwaldSelfValue(ew, &k0, &finite));
    PetscCall(KfEwaldDestroy(&ew));
    PetscCall(PetscSNPrintf(where, sizeof(where), "Z_2(%d): L = 2pi %.17g, L = 1 %.17g, exact %.17g", (int)(2 * s), (double)k0L, (double)(pow(2 * PETSC_PI, 2.0 * s) * k0), (double)exact));
    PetscCall(KfTestCheckValue(PETSC_COMM_WORLD, label, s == 2 ? "d=2: Z_2(4) = 4 zeta(2) beta(2) (L = 2pi), relative" : "d=2: Z_2(6) = 4 zeta(3) beta(3) (L = 2pi), relative", PetscAbsReal(k0L - exact) / exact, TOL_G2, where));
    PetscCall(KfTestCheckValue(PETSC_COMM_WORLD, label, s == 2 ? "d=2: Z_2(4) = 6.026812 (quoted to 7 digits)" : "d=2: Z_2(6) = 4.658914 (quoted to 7 digits)", PetscAbsReal(k0L - quoted), 5e-7, where));
    PetscCall(KfTestCheckValue(PETSC_COMM_WORLD, label, s == 2 ? "d=2: (2pi)^4 K_2(0) on L = 1 = Z_2(4)" : "d=2: (2pi)^6 K_3(0) on L = 1 = Z_2(6)", PetscAbsReal(pow(2 * PETSC_PI, 2.0 * s) * k0 - exact) / exact, TOL_G2, where));
  }
  {
    KfTestErr e;

    KfTestErrReset(&e);
    for (PetscReal s = 0.75; s <= 3; s += 0.75) {
      const PetscReal exact = 2 * gsl_sf_zeta(2 * s) * pow(2 * PETSC_PI, -2 * s);

      PetscCall(KfEwaldCreate(1, s, 1, TOL_EWALD, &ew));
      PetscCall(KfEwaldSelfValue(ew, &k0, &finite));
      PetscCall(KfEwaldDestroy(&ew));
      PetscCall(PetscSNPrintf(where, sizeof(where), "s = %g: %.17g vs %.17g", (double)s, (double)k0, (double)exact));
      PetscCall(KfTestErrUpdate(&e, finite ? PetscAbsReal(k0 - exact) / exact : 1, where));
    }
    PetscCall(KfTestCheck(PETSC_COMM_WORLD, label, "d=1: K_s(0) = 2 zeta(2s)/(2 pi)^{2s}, s = 0.75..3", &e, TOL_G2));
  }
  /* Infinite self values: 2s <= d */
  {
    PetscBool ok = PETSC_TRUE;

    for (PetscInt d = 1; d <= 3; d++) {
      PetscCall(KfEwaldCreate(d, 0.5 * (PetscReal)d, 1, TOL_EWALD, &ew));
      PetscCall(KfEwaldSelfValue(ew, &k0, &finite));
      ok = (PetscBool)(ok && !finite && k0 == PETSC_INFINITY);
      PetscCall(KfEwaldDestroy(&ew));
    }
    PetscCall(KfTestCheckValue(PETSC_COMM_WORLD, label, "2s = d: self value flagged infinite", ok ? 0 : 1, 0, "finite flag or value wrong"));
  }
  PetscFunctionReturn(PETSC_SUCCESS);
}

/* A.2 scaling: K^(L)(L x) = L^{2s} K^(1)(x), grad K^(L)(L x) = L^{2s-1} grad K^(1)(x); d = 1, s = 1 closed form on L = 2 pi. */
static PetscErrorCode TestScaling(void)
{
  const PetscReal L = 2 * PETSC_PI;
  PetscMPIInt     rank, size;
  char            where[200];

  PetscFunctionBeginUser;
  PetscCallMPI(MPI_Comm_rank(PETSC_COMM_WORLD, &rank));
  PetscCallMPI(MPI_Comm_size(PETSC_COMM_WORLD, &size));
  {
    KfEwald   ew;
    KfTestErr eK, eG;

    PetscCall(SetLabel(1, 1, L));
    PetscCall(KfEwaldCreate(1, 1, L, TOL_EWALD, &ew));
    KfTestErrReset(&eK);
    KfTestErrReset(&eG);
    for (PetscInt i = rank; i < 100; i += size) {
      PetscReal x = L * KfRngUniform(8, 1, (uint64_t)i), K, g, Kr, gr;

      PetscCall(KfEwaldEval(ew, &x, &K, &g));
      Kr = x * x / 2 - PETSC_PI * x + PETSC_PI * PETSC_PI / 3;
      gr = x - PETSC_PI;
      PetscCall(Where(where, sizeof(where), 1, &x, K, Kr));
      PetscCall(KfTestErrUpdate(&eK, RelErr(K, Kr, PETSC_PI * PETSC_PI / 6), where));
      PetscCall(Where(where, sizeof(where), 1, &x, g, gr));
      PetscCall(KfTestErrUpdate(&eG, RelErr(g, gr, PETSC_PI), where));
    }
    PetscCall(KfTestCheck(PETSC_COMM_WORLD, label, "K = x^2/2 - pi x + pi^2/3 (A.3)", &eK, TOL_G2));
    PetscCall(KfTestCheck(PETSC_COMM_WORLD, label, "K' = x - pi (A.3)", &eG, TOL_G2));
    PetscCall(KfEwaldDestroy(&ew));
  }
  for (PetscInt d = 2; d <= 3; d++) {
    const PetscReal  s = 1.5;
    PetscReal        S, SG;
    KfEwald          e1, eL;
    KfTestErr        eK, eG, eC;
    PetscInt         n1, nL;
    const PetscReal *c1, *cL;

    PetscCall(SetLabel(d, s, L));
    PetscCall(KfEwaldCreate(d, s, 1, TOL_EWALD, &e1));
    PetscCall(KfEwaldCreate(d, s, L, TOL_EWALD, &eL));
    PetscCall(Floors(eL, d, L, 60, &S, &SG));
    KfTestErrReset(&eK);
    KfTestErrReset(&eG);
    for (PetscInt i = rank; i < 60; i += size) {
      PetscReal x[KF_MAX_DIM], xL[KF_MAX_DIM], K1, g1[KF_MAX_DIM], KL, gL[KF_MAX_DIM];

      SamplePoint(d, i, 0, x);
      for (PetscInt j = 0; j < d; j++) xL[j] = L * x[j];
      PetscCall(KfEwaldEval(e1, x, &K1, g1));
      PetscCall(KfEwaldEval(eL, xL, &KL, gL));
      K1 *= pow(L, 2 * s);
      for (PetscInt j = 0; j < d; j++) g1[j] *= pow(L, 2 * s - 1);
      PetscCall(Where(where, sizeof(where), d, x, KL, K1));
      PetscCall(KfTestErrUpdate(&eK, RelErr(KL, K1, S), where));
      PetscCall(Where(where, sizeof(where), d, x, gL[0], g1[0]));
      PetscCall(KfTestErrUpdate(&eG, GradErr(d, gL, g1, SG), where));
    }
    PetscCall(KfTestCheck(PETSC_COMM_WORLD, label, "K^(2pi)(2pi x) = (2pi)^{2s} K^(1)(x)", &eK, TOL_SYM));
    PetscCall(KfTestCheck(PETSC_COMM_WORLD, label, "grad K^(2pi)(2pi x) = (2pi)^{2s-1} grad K^(1)(x)", &eG, TOL_SYM));
    PetscCall(KfEwaldLongModes(e1, &n1, NULL, &c1));
    PetscCall(KfEwaldLongModes(eL, &nL, NULL, &cL));
    KfTestErrReset(&eC);
    PetscCall(KfTestErrUpdate(&eC, n1 == nL ? 0 : 1, "mode counts differ"));
    for (PetscInt m = 0; m < PetscMin(n1, nL); m++) PetscCall(KfTestErrUpdate(&eC, PetscAbsReal(cL[m] - pow(L, 2 * s) * c1[m]) / (pow(L, 2 * s) * c1[m]), "a long coefficient"));
    PetscCall(KfTestCheck(PETSC_COMM_WORLD, label, "long coefficients scale by L^{2s}", &eC, TOL_SYM));
    PetscCall(KfEwaldDestroy(&e1));
    PetscCall(KfEwaldDestroy(&eL));
  }
  PetscFunctionReturn(PETSC_SUCCESS);
}

/* Gradient against 4th-order centred differences of K at |x| >= 0.1 L, L = 1 and 2 pi. */
static PetscErrorCode TestFiniteDifferences(PetscInt d, PetscReal s, PetscReal L)
{
  PetscMPIInt rank, size;
  KfEwald     ew;
  KfTestErr   e;
  char        where[200];
  PetscReal   S, SG;

  PetscFunctionBeginUser;
  PetscCallMPI(MPI_Comm_rank(PETSC_COMM_WORLD, &rank));
  PetscCallMPI(MPI_Comm_size(PETSC_COMM_WORLD, &size));
  PetscCall(SetLabel(d, s, L));
  PetscCall(KfEwaldCreate(d, s, L, TOL_EWALD, &ew));
  PetscCall(Floors(ew, d, L, NNEAR + 40, &S, &SG));
  KfTestErrReset(&e);
  for (PetscInt i = NNEAR + rank; i < NNEAR + 40; i += size) {
    PetscReal x[KF_MAX_DIM], g[KF_MAX_DIM], fd[KF_MAX_DIM], r2 = 0, h;

    SamplePoint(d, i, 0, x);
    for (PetscInt j = 0; j < d; j++) r2 += x[j] * x[j];
    if (r2 < 0.01) continue;
    h = 1e-3 * L * PetscSqrtReal(r2); /* the derivatives of K grow like |x|^{2s-d-k} near 0 */
    for (PetscInt j = 0; j < d; j++) x[j] *= L;
    PetscCall(KfEwaldEval(ew, x, NULL, g));
    for (PetscInt j = 0; j < d; j++) {
      PetscReal f[4], xs[KF_MAX_DIM] = {x[0], x[1], x[2]};
      const int off[4] = {-2, -1, 1, 2};

      for (int k = 0; k < 4; k++) {
        xs[j] = x[j] + off[k] * h;
        PetscCall(KfEwaldEval(ew, xs, &f[k], NULL));
      }
      fd[j] = (f[0] - 8 * f[1] + 8 * f[2] - f[3]) / (12 * h);
    }
    PetscCall(Where(where, sizeof(where), d, x, g[0], fd[0]));
    PetscCall(KfTestErrUpdate(&e, GradErr(d, g, fd, SG), where));
  }
  PetscCall(KfTestCheck(PETSC_COMM_WORLD, label, "grad K = 4th-order differences (h = 1e-3 |x|)", &e, TOL_FD));
  PetscCall(KfEwaldDestroy(&ew));
  PetscFunctionReturn(PETSC_SUCCESS);
}

/* K even, grad K odd, both L-periodic in every axis and invariant under a cyclic permutation of the axes. */
static PetscErrorCode TestSymmetry(PetscInt d, PetscReal s)
{
  PetscMPIInt     rank, size;
  KfEwald         ew;
  KfTestErr       eEven, eOdd, ePer, ePerm;
  char            where[200];
  PetscReal       S, SG;
  const PetscReal L = 2 * PETSC_PI;

  PetscFunctionBeginUser;
  PetscCallMPI(MPI_Comm_rank(PETSC_COMM_WORLD, &rank));
  PetscCallMPI(MPI_Comm_size(PETSC_COMM_WORLD, &size));
  PetscCall(SetLabel(d, s, L));
  PetscCall(KfEwaldCreate(d, s, L, TOL_EWALD, &ew));
  PetscCall(Floors(ew, d, L, 60, &S, &SG));
  KfTestErrReset(&eEven);
  KfTestErrReset(&eOdd);
  KfTestErrReset(&ePer);
  KfTestErrReset(&ePerm);
  for (PetscInt i = 3 + rank; i < 60; i += size) { /* from |x| = 0.06 L on: x + L would round the points closer to 0 more than K tolerates */
    PetscReal x[KF_MAX_DIM], xm[KF_MAX_DIM] = {0, 0, 0}, K, g[KF_MAX_DIM], K2, g2[KF_MAX_DIM];

    SamplePoint(d, i, 0, x);
    for (PetscInt j = 0; j < d; j++) x[j] *= L;
    PetscCall(KfEwaldEval(ew, x, &K, g));
    for (PetscInt j = 0; j < d; j++) xm[j] = -x[j];
    PetscCall(KfEwaldEval(ew, xm, &K2, g2));
    PetscCall(Where(where, sizeof(where), d, x, K2, K));
    PetscCall(KfTestErrUpdate(&eEven, RelErr(K2, K, S), where));
    for (PetscInt j = 0; j < d; j++) g2[j] = -g2[j];
    PetscCall(KfTestErrUpdate(&eOdd, GradErr(d, g2, g, SG), where));
    for (PetscInt j = 0; j < d; j++) {
      PetscReal xp[KF_MAX_DIM] = {x[0], x[1], x[2]};

      xp[j] += (j % 2 ? -3 : 1) * L;
      PetscCall(KfEwaldEval(ew, xp, &K2, g2));
      PetscCall(KfTestErrUpdate(&ePer, PetscMax(RelErr(K2, K, S), GradErr(d, g2, g, SG)), where));
    }
    if (d > 1) {
      PetscReal xc[KF_MAX_DIM] = {0, 0, 0}, gc[KF_MAX_DIM];

      for (PetscInt j = 0; j < d; j++) xc[j] = x[(j + 1) % d];
      PetscCall(KfEwaldEval(ew, xc, &K2, g2));
      for (PetscInt j = 0; j < d; j++) gc[j] = g2[(j + d - 1) % d]; /* grad K(Px) = P grad K(x) */
      PetscCall(KfTestErrUpdate(&ePerm, PetscMax(RelErr(K2, K, S), GradErr(d, gc, g, SG)), where));
    }
  }
  PetscCall(KfTestCheck(PETSC_COMM_WORLD, label, "K(-x) = K(x)", &eEven, TOL_SYM));
  PetscCall(KfTestCheck(PETSC_COMM_WORLD, label, "grad K(-x) = -grad K(x)", &eOdd, TOL_SYM));
  PetscCall(KfTestCheck(PETSC_COMM_WORLD, label, "K, grad K periodic (x + L e_j, x - 3 L e_j)", &ePer, TOL_SYM));
  if (d > 1) PetscCall(KfTestCheck(PETSC_COMM_WORLD, label, "K, grad K invariant under cyclic axis permutation", &ePerm, TOL_SYM));
  PetscCall(KfEwaldDestroy(&ew));
  PetscFunctionReturn(PETSC_SUCCESS);
}

/*
  The contract for pair loops: short part + long modes give the pair energy and forces of a set of
  charges, sum_{i != j} q_i q_j K(X_i - X_j) = sum_{i != j} q_i q_j K_short + sum_m 2 coef_m |S_m|^2 - K_long(0) sum_i q_i^2,
  and sum_{j != i} q_j grad K(X_i - X_j) = sum_{j != i} q_j grad K_short - sum_m 2 coef_m (2 pi k_m / L) Im(e^{2 pi i k_m.X_i/L} S_m).
*/
static PetscErrorCode TestStructureFactors(PetscInt d, PetscReal s)
{
  const PetscInt   N = 24;
  const PetscReal  L = 2 * PETSC_PI;
  KfEwald          ew;
  PetscInt         nk;
  const PetscInt  *k;
  const PetscReal *coef;
  PetscReal        X[24][KF_MAX_DIM], q[24], Edir = 0, Eabs = 0, Esplit = 0, klong0, qq = 0, ferr = 0, fmax = 0;
  double _Complex *S;
  char             where[200];

  PetscFunctionBeginUser;
  PetscCall(SetLabel(d, s, L));
  PetscCall(KfEwaldCreate(d, s, L, TOL_EWALD, &ew));
  PetscCall(KfEwaldLongModes(ew, &nk, &k, &coef));
  PetscCall(KfEwaldLongSelf(ew, &klong0));
  for (PetscInt i = 0; i < N; i++) {
    for (PetscInt j = 0; j < KF_MAX_DIM; j++) X[i][j] = j < d ? L * KfRngUniform(9, (uint64_t)d, (uint64_t)(3 * i + j)) : 0;
    q[i] = KfRngUniform(9, 7, (uint64_t)i) - 0.3;
    qq += q[i] * q[i];
  }
  PetscCall(PetscMalloc1(nk, &S));
  for (PetscInt m = 0; m < nk; m++) {
    S[m] = 0;
    for (PetscInt i = 0; i < N; i++) {
      PetscReal ph = 0;

      for (PetscInt j = 0; j < d; j++) ph += 2 * PETSC_PI * k[m * d + j] * X[i][j] / L;
      S[m] += q[i] * cexp(-I * ph);
    }
    Esplit += 2 * coef[m] * (creal(S[m]) * creal(S[m]) + cimag(S[m]) * cimag(S[m]));
  }
  Esplit -= klong0 * qq;
  for (PetscInt i = 0; i < N; i++) {
    PetscReal fdir[KF_MAX_DIM] = {0, 0, 0}, fsp[KF_MAX_DIM] = {0, 0, 0}, fn = 0, en = 0;

    for (PetscInt j = 0; j < N; j++) {
      PetscReal r[KF_MAX_DIM], K, g[KF_MAX_DIM], Ks, gs[KF_MAX_DIM];

      if (j == i) continue;
      for (PetscInt c = 0; c < d; c++) r[c] = X[i][c] - X[j][c];
      PetscCall(KfEwaldEval(ew, r, &K, g));
      PetscCall(KfEwaldShort(ew, r, &Ks, gs));
      Edir += q[i] * q[j] * K;
      Eabs += PetscAbsReal(q[i] * q[j] * K);
      Esplit += q[i] * q[j] * Ks;
      for (PetscInt c = 0; c < d; c++) {
        fdir[c] += q[j] * g[c];
        fsp[c] += q[j] * gs[c];
      }
    }
    for (PetscInt m = 0; m < nk; m++) {
      PetscReal ph = 0;

      for (PetscInt c = 0; c < d; c++) ph += 2 * PETSC_PI * k[m * d + c] * X[i][c] / L;
      for (PetscInt c = 0; c < d; c++) fsp[c] -= 2 * coef[m] * (2 * PETSC_PI * k[m * d + c] / L) * cimag(cexp(I * ph) * S[m]);
    }
    for (PetscInt c = 0; c < d; c++) {
      fn += PetscSqr(fdir[c]);
      en += PetscSqr(fsp[c] - fdir[c]);
    }
    ferr = PetscMax(ferr, PetscSqrtReal(en));
    fmax = PetscMax(fmax, PetscSqrtReal(fn));
  }
  PetscCall(PetscFree(S));
  PetscCall(PetscSNPrintf(where, sizeof(where), "pair energy %.17g direct, %.17g from short + structure factors", (double)Edir, (double)Esplit));
  PetscCall(KfTestCheckValue(PETSC_COMM_WORLD, label, "short + structure factors = direct pair energy", PetscAbsReal(Esplit - Edir) / Eabs, TOL_EWALD, where));
  PetscCall(KfTestCheckValue(PETSC_COMM_WORLD, label, "short + structure factors = direct pair forces", ferr / fmax, TOL_EWALD, "worst particle"));
  /* Beyond r_c the short part is its constant alone; NULL outputs change nothing in the others. */
  {
    PetscReal shortconst, rc, far[KF_MAX_DIM] = {0, 0, 0}, K, g[KF_MAX_DIM], K1, g1[KF_MAX_DIM], err = 0;

    PetscCall(KfEwaldGetSplit(ew, NULL, &rc, NULL, &shortconst));
    for (PetscInt j = 0; j < d; j++) far[j] = 0.45 * L;
    PetscCall(KfEwaldShort(ew, far, &K, g));
    for (PetscInt j = 0; j < d; j++) err = PetscMax(err, PetscAbsReal(g[j]));
    PetscCall(PetscSNPrintf(where, sizeof(where), "K_short = %.17g, constant %.17g, |grad| %.1e", (double)K, (double)shortconst, (double)err));
    PetscCall(KfTestCheckValue(PETSC_COMM_WORLD, label, "K_short = its constant, grad 0 beyond r_c", (K == shortconst && err == 0) ? 0 : 1, 0, where));
    err = 0;
    for (PetscInt i = 0; i < N; i++) {
      PetscCall(KfEwaldShort(ew, X[i], &K, g));
      PetscCall(KfEwaldShort(ew, X[i], &K1, NULL));
      PetscCall(KfEwaldShort(ew, X[i], NULL, g1));
      for (PetscInt j = 0; j < d; j++) err = PetscMax(err, PetscAbsReal(g1[j] - g[j]));
      err = PetscMax(err, PetscAbsReal(K1 - K));
      PetscCall(KfEwaldEval(ew, X[i], &K, g));
      PetscCall(KfEwaldEval(ew, X[i], &K1, NULL));
      PetscCall(KfEwaldEval(ew, X[i], NULL, g1));
      for (PetscInt j = 0; j < d; j++) err = PetscMax(err, PetscAbsReal(g1[j] - g[j]));
      err = PetscMax(err, PetscAbsReal(K1 - K));
    }
    PetscCall(KfTestCheckValue(PETSC_COMM_WORLD, label, "NULL K or grad: the other output unchanged (exact)", err, 0, "a value differs"));
  }
  PetscCall(KfEwaldDestroy(&ew));
  PetscFunctionReturn(PETSC_SUCCESS);
}

/* ------------------------------------------------------------------------------ the short part's table and SIMD tile */

/* The polynomial of KfEwaldTable (kf_ewald.h) for function c at w: plain Horner, not the library's even/odd split. */
static PetscReal TablePoly(const PetscReal *c, PetscReal w)
{
  int       ex;
  PetscReal t = 4 * frexp(w, &ex) - 3, sum = 0; /* binade ex - 1; t = w/2^{ex-2} - 3 */

  for (int k = KF_EWALD_TERMS - 1; k >= 0; k--) sum = sum * t + c[k * KF_EWALD_BINADES + ex - 1];
  return sum;
}

/*
  The short part against its formula with the direct E_p (KfExpIntE):
    K_short = L^{2s} (A E_p(z) - tau0^s/Gamma(s + 1)),  grad K_short = -L^{2s-1} A/(2 tau0) y E_{p-1}(z),
  A = (4 pi)^{-d/2} tau0^{s-d/2}/Gamma(s), y = x/L, z = |y|^2/(4 tau0), at |x| log-uniform in [1e-5, 1/2) L: every binade
  of the table and the direct branch below it. The table as kf_ewald.h documents it (e^{-z} P(w)) relative to each of
  the two terms; KfEwaldShort's K relative to the larger of its terms (it rounds to the constant at large z), its
  gradient relative to itself.
*/
static PetscErrorCode TestShortTable(PetscInt d, PetscReal s, PetscReal L)
{
  const PetscInt  npts = 3000;
  const PetscReal p    = 1 + s - 0.5 * (PetscReal)d;
  PetscMPIInt     rank, size;
  KfEwald         ew;
  KfEwaldTable    tab;
  PetscReal       tau0, A, c0, Kscale, Gscale;
  KfTestErr       eT, eK, eG;
  char            where[200];

  PetscFunctionBeginUser;
  PetscCallMPI(MPI_Comm_rank(PETSC_COMM_WORLD, &rank));
  PetscCallMPI(MPI_Comm_size(PETSC_COMM_WORLD, &size));
  PetscCall(SetLabel(d, s, L));
  PetscCall(KfEwaldCreate(d, s, L, TOL_EWALD, &ew));
  PetscCall(KfEwaldGetSplit(ew, &tau0, NULL, NULL, NULL));
  KfEwaldGetTable(ew, &tab);
  A      = pow(4 * PETSC_PI, -0.5 * (PetscReal)d) * pow(tau0, s - 0.5 * (PetscReal)d) / tgamma(s);
  c0     = pow(tau0, s) / tgamma(s + 1);
  Kscale = pow(L, 2 * s);
  Gscale = pow(L, 2 * s - 1);
  KfTestErrReset(&eT);
  KfTestErrReset(&eK);
  KfTestErrReset(&eG);
  for (PetscInt i = rank; i < npts; i += size) {
    const PetscReal r = 1e-5 * pow(0.5 / 1e-5, KfRngUniform(31, (uint64_t)d, (uint64_t)i));
    PetscReal       n = 0, r2 = 0, gn = 0, dn = 0, y[KF_MAX_DIM], x[KF_MAX_DIM], z, w, K, g[KF_MAX_DIM], Kt, Gt;

    for (PetscInt j = 0; j < d; j++) {
      y[j] = KfRngUniform(31, (uint64_t)(10 + d), (uint64_t)(3 * i + j)) - 0.5;
      n += y[j] * y[j];
    }
    for (PetscInt j = 0; j < d; j++) {
      y[j] *= r / PetscSqrtReal(n);
      x[j] = L * y[j];
      r2 += y[j] * y[j];
    }
    z  = r2 / (4 * tau0);
    w  = r2 * tab.wscale;
    Kt = Kscale * A * KfExpIntE(p, z);                   /* the E_p term of K_short */
    Gt = -Gscale * A / (2 * tau0) * KfExpIntE(p - 1, z); /* grad K_short = Gt y */
    if (w >= 1) {
      PetscCall(PetscSNPrintf(where, sizeof(where), "z = %.6g: E_p term %.17g vs %.17g, E_{p-1} term %.17g vs %.17g", (double)z, (double)(exp(-z) * TablePoly(tab.cK, w)), (double)Kt, (double)(exp(-z) * TablePoly(tab.cG, w)), (double)Gt));
      PetscCall(KfTestErrUpdate(&eT, PetscMax(RelErr(exp(-z) * TablePoly(tab.cK, w), Kt, 0), RelErr(exp(-z) * TablePoly(tab.cG, w), Gt, 0)), where));
    }
    PetscCall(KfEwaldShort(ew, x, &K, g));
    for (PetscInt j = 0; j < d; j++) {
      gn += PetscSqr(g[j] - Gt * y[j]);
      dn += PetscSqr(Gt * y[j]);
    }
    PetscCall(Where(where, sizeof(where), d, x, K, Kt - Kscale * c0));
    PetscCall(KfTestErrUpdate(&eK, PetscAbsReal(K - (Kt - Kscale * c0)) / PetscMax(PetscAbsReal(Kt), Kscale * c0), where));
    PetscCall(Where(where, sizeof(where), d, x, g[0], Gt * y[0]));
    PetscCall(KfTestErrUpdate(&eG, PetscSqrtReal(gn / dn), where));
  }
  PetscCall(KfTestCheck(PETSC_COMM_WORLD, label, "E_p, E_{p-1} table (KfEwaldTable) vs KfExpIntE, relative", &eT, TOL_TABLE));
  PetscCall(KfTestCheck(PETSC_COMM_WORLD, label, "K_short vs KfExpIntE, relative to its larger term", &eK, TOL_TABLE));
  PetscCall(KfTestCheck(PETSC_COMM_WORLD, label, "grad K_short vs KfExpIntE, relative", &eG, TOL_TABLE));
  PetscCall(KfEwaldDestroy(&ew));
  PetscFunctionReturn(PETSC_SUCCESS);
}

#define TILE_NT 40 /* targets: 5 SIMD blocks */
#define TILE_NS 96 /* sources */

typedef struct {
  PetscReal xt[KF_MAX_DIM * TILE_NT], xs[KF_MAX_DIM * TILE_NS], qs[TILE_NS];
} EwaldTile;

static PetscReal Wrap(PetscReal x, PetscReal L)
{
  x -= L * floor(x / L);
  return x < L ? x : 0; /* x just below 0 rounds to L */
}

/*
  Targets uniform on [0, L)^d; sources uniform too except, cycling over the targets, ones that the table leaves to the
  scalar path or that sit on its edges: exactly on a target, 1e-9 L and 1e-4 L from one (below the first binade), at
  (1 +- 1e-12) r_c (the cutoff), and at z = 2^k (1 +- 1e-15) (binade boundaries).
*/
static void MakeEwaldTile(PetscInt d, PetscReal L, PetscReal tau0, PetscReal rc, EwaldTile *t)
{
  for (PetscInt i = 0; i < d * TILE_NT; i++) t->xt[(i % d) * TILE_NT + i / d] = L * KfRngUniform(41, (uint64_t)d, (uint64_t)i);
  for (PetscInt j = 0; j < TILE_NS; j++) {
    const PetscInt  i = (7 * j) % TILE_NT, kind = j % 8;
    const PetscReal dist[6] = {0, 1e-9, 1e-4, rc * (j % 16 < 8 ? 1 + 1e-12 : 1 - 1e-12), 2 * PetscSqrtReal(tau0 * ldexp(1.0, (int)(j % 13) - 8)) * (1 + 1e-15 * (j % 3 - 1.0)), 0};
    PetscReal       dir[KF_MAX_DIM], n = 0;

    for (PetscInt c = 0; c < d; c++) {
      dir[c] = KfRngUniform(42, (uint64_t)d, (uint64_t)(3 * j + c)) - 0.5;
      n += dir[c] * dir[c];
    }
    for (PetscInt c = 0; c < d; c++) {
      const PetscReal u = L * KfRngUniform(43, (uint64_t)d, (uint64_t)(3 * j + c));

      t->xs[c * TILE_NS + j] = kind < 5 ? Wrap(t->xt[c * TILE_NT + i] + L * dist[kind] * dir[c] / PetscSqrtReal(n), L) : u;
    }
    t->qs[j] = (j % 3 ? 1 : -0.5) * (0.5 + KfRngUniform(44, (uint64_t)d, (uint64_t)j));
  }
}

/* The sums the tile must reproduce, from the scalar KfEwaldShortPair in source order (k0short at r = 0), and the scales
   sum_j |q_j K_j|, sum_j |q_j| |grad_j| of their terms. */
static void EwaldTileReference(KfEwald ew, PetscInt d, PetscReal k0short, const EwaldTile *t, PetscReal *grad, PetscReal *pot, PetscReal *gabs, PetscReal *pabs)
{
  for (PetscInt i = 0; i < TILE_NT; i++) {
    pot[i] = pabs[i] = gabs[i] = 0;
    for (PetscInt c = 0; c < d; c++) grad[c * TILE_NT + i] = 0;
    for (PetscInt j = 0; j < TILE_NS; j++) {
      PetscReal r[KF_MAX_DIM], K, g[KF_MAX_DIM] = {0, 0, 0}, gm = 0;
      PetscBool zero = PETSC_TRUE;

      for (PetscInt c = 0; c < d; c++) {
        r[c] = t->xt[c * TILE_NT + i] - t->xs[c * TILE_NS + j];
        zero = (PetscBool)(zero && r[c] == 0);
      }
      if (zero)
        K = k0short;
      else
        KfEwaldShortPair(ew, r, &K, g);
      pot[i] += t->qs[j] * K;
      pabs[i] += PetscAbsReal(t->qs[j] * K);
      for (PetscInt c = 0; c < d; c++) {
        grad[c * TILE_NT + i] += t->qs[j] * g[c];
        gm += g[c] * g[c];
      }
      gabs[i] += PetscAbsReal(t->qs[j]) * PetscSqrtReal(gm);
    }
  }
}

static void RunEwaldTile(KfKernel k, PetscInt d, PetscInt i0, PetscInt nt, const PetscReal *xt, const EwaldTile *t, PetscReal *grad, PetscReal *pot)
{
  for (PetscInt c = 0; c < d; c++)
    for (PetscInt i = 0; i < nt; i++) grad[c * TILE_NT + i0 + i] = 0;
  for (PetscInt i = 0; i < nt; i++)
    if (pot) pot[i0 + i] = 0;
  KfKernelTile(k, nt, TILE_NT, xt + i0, TILE_NS, TILE_NS, t->xs, t->qs, grad + i0, pot ? pot + i0 : NULL);
}

/* Values that differ bitwise between the tile's result for the targets xt (g, p) and for the same targets rotated by rot. */
static PetscInt CountDiffs(PetscInt d, PetscInt rot, const PetscReal *g0, const PetscReal *p0, const PetscReal *g1, const PetscReal *p1)
{
  PetscInt n = 0;

  for (PetscInt i = 0; i < TILE_NT; i++) {
    const PetscInt ii = (i + rot) % TILE_NT;

    if (p1) n += memcmp(&p0[i], &p1[ii], sizeof(PetscReal)) != 0;
    for (PetscInt c = 0; c < d; c++) n += memcmp(&g0[c * TILE_NT + i], &g1[c * TILE_NT + ii], sizeof(PetscReal)) != 0;
  }
  return n;
}

/*
  KfKernelTile of the sobolev kernel (the short part; kernel.c's SIMD tile, targets in lanes) against EwaldTileReference,
  then its reproducibility contract: bitwise the same values when the targets move to other lanes and tiles (rotated by 13,
  then 8 at a time), the same gradient without the potential, and a coincident source giving exactly 0 and k0short.
*/
static PetscErrorCode TestShortTile(PetscInt d, PetscReal s, PetscReal L)
{
  KfParams  par;
  KfKernel  k;
  KfEwald   ew;
  EwaldTile t;
  PetscReal tau0, rc, k0, klong0, k0short, xt[KF_MAX_DIM * TILE_NT];
  PetscReal grad[KF_MAX_DIM * TILE_NT], pot[TILE_NT], rg[KF_MAX_DIM * TILE_NT], rp[TILE_NT], gabs[TILE_NT], pabs[TILE_NT];
  PetscReal g1[KF_MAX_DIM * TILE_NT], p1[TILE_NT];
  PetscBool finite;
  PetscInt  ndiff;
  KfTestErr eg, ep;
  char      where[200];

  PetscFunctionBeginUser;
  PetscCall(SetLabel(d, s, L));
  PetscCall(PetscMemzero(&par, sizeof(par)));
  par.dim = d;
  par.s   = s;
  par.L   = L;
  PetscCall(KfKernelCreate(PETSC_COMM_WORLD, &par, &k)); /* the defaults: -kernel sobolev -ewald_tol 1e-13 */
  PetscCall(KfEwaldCreate(d, s, L, TOL_EWALD, &ew));
  PetscCall(KfEwaldGetSplit(ew, &tau0, &rc, NULL, NULL));
  PetscCall(KfKernelSelfValue(k, &k0, &finite));
  PetscCall(KfEwaldLongSelf(ew, &klong0));
  k0short = (finite ? k0 : 0) - klong0;
  MakeEwaldTile(d, L, tau0, rc, &t);
  EwaldTileReference(ew, d, k0short, &t, rg, rp, gabs, pabs);
  RunEwaldTile(k, d, 0, TILE_NT, t.xt, &t, grad, pot);
  KfTestErrReset(&eg);
  KfTestErrReset(&ep);
  for (PetscInt i = 0; i < TILE_NT; i++) {
    PetscReal e = 0;

    for (PetscInt c = 0; c < d; c++) e += PetscSqr(grad[c * TILE_NT + i] - rg[c * TILE_NT + i]);
    PetscCall(PetscSNPrintf(where, sizeof(where), "target %d: grad_0 %.17g, reference %.17g (scale %.3g)", (int)i, (double)grad[i], (double)rg[i], (double)gabs[i]));
    PetscCall(KfTestErrUpdate(&eg, PetscSqrtReal(e) / gabs[i], where));
    PetscCall(PetscSNPrintf(where, sizeof(where), "target %d: pot %.17g, reference %.17g (scale %.3g)", (int)i, (double)pot[i], (double)rp[i], (double)pabs[i]));
    PetscCall(KfTestErrUpdate(&ep, PetscAbsReal(pot[i] - rp[i]) / pabs[i], where));
  }
  PetscCall(KfTestCheck(PETSC_COMM_WORLD, label, "tile grad vs KfEwaldShortPair sums", &eg, TOL_TILE));
  PetscCall(KfTestCheck(PETSC_COMM_WORLD, label, "tile pot vs KfEwaldShortPair sums", &ep, TOL_TILE));

  for (PetscInt c = 0; c < d; c++)
    for (PetscInt i = 0; i < TILE_NT; i++) xt[c * TILE_NT + (i + 13) % TILE_NT] = t.xt[c * TILE_NT + i];
  RunEwaldTile(k, d, 0, TILE_NT, xt, &t, g1, p1);
  ndiff = CountDiffs(d, 13, grad, pot, g1, p1);
  for (PetscInt i0 = 0; i0 < TILE_NT; i0 += KF_KERNEL_WIDTH) RunEwaldTile(k, d, i0, KF_KERNEL_WIDTH, xt, &t, g1, p1);
  ndiff += CountDiffs(d, 13, grad, pot, g1, p1);
  RunEwaldTile(k, d, 0, TILE_NT, t.xt, &t, g1, NULL);
  ndiff += CountDiffs(d, 0, grad, NULL, g1, NULL);
  PetscCall(PetscSNPrintf(where, sizeof(where), "%d values differ", (int)ndiff));
  PetscCall(KfTestCheckValue(PETSC_COMM_WORLD, label, "tile bitwise independent of lane, nt, pot (count)", (PetscReal)ndiff, 0, where));

  { /* one source exactly on target 3 of 8, q = 1 */
    PetscReal xs[KF_MAX_DIM], q = 1, bad = 0;

    for (PetscInt c = 0; c < d; c++) xs[c] = t.xt[c * TILE_NT + 3];
    for (PetscInt i = 0; i < KF_MAX_DIM * TILE_NT; i++) grad[i] = pot[i % TILE_NT] = 0;
    KfKernelTile(k, KF_KERNEL_WIDTH, TILE_NT, t.xt, 1, 1, xs, &q, grad, pot);
    for (PetscInt c = 0; c < d; c++) bad += grad[c * TILE_NT + 3] != 0;
    bad += pot[3] != k0short;
    PetscCall(PetscSNPrintf(where, sizeof(where), "grad_0 %g, pot %.17g, k0short %.17g", (double)grad[3], (double)pot[3], (double)k0short));
    PetscCall(KfTestCheckValue(PETSC_COMM_WORLD, label, "coincident source: grad exactly 0, pot exactly k0short", bad, 0, where));
  }
  PetscCall(KfEwaldDestroy(&ew));
  PetscCall(KfKernelDestroy(&k));
  PetscFunctionReturn(PETSC_SUCCESS);
}

/* Bad parameters must raise KF_ERR_INPUT and leave the handle NULL. split: KfEwaldCreateWithSplit(tau0, rc, M), else KfEwaldCreate(tol). */
typedef struct {
  const char *what;
  PetscInt    d;
  PetscReal   s, L, tol;
  PetscBool   split;
  PetscReal   tau0, rc, M;
} BadInput;

static PetscErrorCode TestBadInput(void)
{
  const BadInput bad[] = {
      {"s = 0", 2, 0, 1, 1e-13, PETSC_FALSE, 0, 0, 0},
      {"s = -1", 2, -1, 1, 1e-13, PETSC_FALSE, 0, 0, 0},
      {"s = NaN", 2, NAN, 1, 1e-13, PETSC_FALSE, 0, 0, 0},
      {"d = 0", 0, 1, 1, 1e-13, PETSC_FALSE, 0, 0, 0},
      {"d = 4", 4, 1, 1, 1e-13, PETSC_FALSE, 0, 0, 0},
      {"tol = 1e-17", 2, 1, 1, 1e-17, PETSC_FALSE, 0, 0, 0},
      {"tol = 0.05", 2, 1, 1, 0.05, PETSC_FALSE, 0, 0, 0},
      {"L = 0", 2, 1, 0, 1e-13, PETSC_FALSE, 0, 0, 0},
      {"split: tau0 = 0", 2, 1, 1, 0, PETSC_TRUE, 0, 0.5, 10},
      {"split: r_c = -1", 2, 1, 1, 0, PETSC_TRUE, 0.002, -1, 10},
      {"split: M = 1e4 in d = 3 (memory)", 3, 1, 1, 0, PETSC_TRUE, 0.002, 0.5, 1e4},
  };

  PetscFunctionBeginUser;
  PetscCall(PetscStrncpy(label, "bad input", sizeof(label)));
  for (size_t i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
    const BadInput *b  = &bad[i];
    KfEwald         ew = (KfEwald)(uintptr_t)1; /* must come back NULL */
    PetscErrorCode  ierr;
    char            what[96];

    PetscCall(PetscPushErrorHandler(PetscReturnErrorHandler, NULL));
    if (b->split)
      ierr = KfEwaldCreateWithSplit(b->d, b->s, b->L, b->tau0, b->rc, b->M, &ew);
    else
      ierr = KfEwaldCreate(b->d, b->s, b->L, b->tol, &ew);
    PetscCall(PetscPopErrorHandler());
    PetscCall(PetscSNPrintf(what, sizeof(what), "%s -> KF_ERR_INPUT, NULL handle", b->what));
    PetscCall(KfTestCheckValue(PETSC_COMM_WORLD, label, what, (ierr == KF_ERR_INPUT && ew == NULL) ? 0 : 1, 0, ierr ? "wrong error code or handle not NULL" : "accepted"));
    if (!ierr) PetscCall(KfEwaldDestroy(&ew));
  }
  PetscFunctionReturn(PETSC_SUCCESS);
}

/* Cost for the particle module: us per KfEwaldShort call (pairs spread over the cell, as in a ring pass) and the mode count. */
static PetscErrorCode ReportCost(void)
{
  PetscFunctionBeginUser;
  PetscCall(PetscPrintf(PETSC_COMM_WORLD, "cost at tol 1e-13 (rank 0; pair displacements uniform on the torus):\n"));
  for (PetscInt d = 2; d <= 3; d++)
    for (PetscReal s = 1; s <= 2; s += 0.5) {
      const PetscInt n = 200000;
      KfEwald        ew;
      PetscReal     *r, K, g[KF_MAX_DIM], acc = 0;
      PetscLogDouble t0, t1, t2, t3;
      PetscInt       nk;
      char           desc[256];

      PetscCall(KfEwaldCreate(d, s, 1, 1e-13, &ew));
      PetscCall(KfEwaldLongModes(ew, &nk, NULL, NULL));
      PetscCall(KfEwaldDescribe(ew, desc, sizeof(desc)));
      PetscCall(PetscMalloc1(d * n, &r));
      for (PetscInt i = 0; i < d * n; i++) r[i] = KfRngUniform(11, 0, (uint64_t)i);
      PetscCall(PetscTime(&t0));
      for (PetscInt i = 0; i < n; i++) {
        PetscCall(KfEwaldShort(ew, &r[d * i], &K, g));
        acc += K + g[0];
      }
      PetscCall(PetscTime(&t1));
      for (PetscInt i = 0; i < n; i++) {
        PetscCall(KfEwaldShort(ew, &r[d * i], NULL, g));
        acc += g[0];
      }
      PetscCall(PetscTime(&t2));
      for (PetscInt i = 0; i < 200; i++) {
        PetscCall(KfEwaldEval(ew, &r[d * i], &K, g));
        acc += K;
      }
      PetscCall(PetscTime(&t3));
      PetscCall(PetscPrintf(PETSC_COMM_WORLD, "info  %s\n      KfEwaldShort %.3f us (K + grad), %.3f us (grad only); KfEwaldEval %.1f us; %" PetscInt_FMT " long modes%s\n", desc, 1e6 * (t1 - t0) / n, 1e6 * (t2 - t1) / n,
                            1e6 * (t3 - t2) / 200, nk, acc == acc ? "" : " (NaN seen)"));
      PetscCall(PetscFree(r));
      PetscCall(KfEwaldDestroy(&ew));
    }
  PetscFunctionReturn(PETSC_SUCCESS);
}

static PetscErrorCode RunAll(void)
{
  PetscMPIInt size;

  PetscFunctionBeginUser;
  PetscCallMPI(MPI_Comm_size(PETSC_COMM_WORLD, &size));
  PetscCall(PetscPrintf(PETSC_COMM_WORLD, "test_ewald on %d rank%s\n", size, size > 1 ? "s" : ""));
  PetscCall(TestExpInt());
  PetscCall(TestReferences());
  PetscCall(TestBernoulli());
  {
    const PetscReal s1[] = {0.3, 0.75, 1, 1.25, 1.5, 2, 2.7, 3}, s2[] = {0.5, 0.8, 1, 1.5, 2, 2.7}, s3[] = {0.6, 1, 1.5, 2, 3};

    for (size_t i = 0; i < sizeof(s1) / sizeof(s1[0]); i++) PetscCall(TestFourier(1, s1[i], 80, 1e-6));
    for (size_t i = 0; i < sizeof(s2) / sizeof(s2[0]); i++) PetscCall(TestFourier(2, s2[i], 48, 0.003));
    for (size_t i = 0; i < sizeof(s3) / sizeof(s3[0]); i++) PetscCall(TestFourier(3, s3[i], 24, 0.02));
  }
  for (PetscInt d = 1; d <= 3; d++) {
    const PetscReal ss[] = {0.6, 1, 1 + 1e-7, 1.5, 2, 3.3};

    for (size_t i = 0; i < sizeof(ss) / sizeof(ss[0]); i++) PetscCall(TestSplit(d, ss[i]));
  }
  for (PetscInt d = 1; d <= 3; d++) {
    const PetscReal ss[] = {0.1, 1, 2.5};

    for (size_t i = 0; i < sizeof(ss) / sizeof(ss[0]); i++) {
      PetscCall(TestTolerance(d, ss[i], 1e-4));
      PetscCall(TestTolerance(d, ss[i], 1e-8));
    }
  }
  PetscCall(TestSelfValues());
  PetscCall(TestScaling());
  for (PetscInt d = 1; d <= 3; d++) {
    const PetscReal ss[] = {0.75, 1, 1.5, 2};

    for (size_t i = 0; i < sizeof(ss) / sizeof(ss[0]); i++) {
      PetscCall(TestFiniteDifferences(d, ss[i], 1));
      PetscCall(TestFiniteDifferences(d, ss[i], 2 * PETSC_PI));
      PetscCall(TestSymmetry(d, ss[i]));
    }
  }
  for (PetscInt d = 2; d <= 3; d++) PetscCall(TestStructureFactors(d, 1.5));
  for (PetscInt d = 2; d <= 3; d++) {
    const PetscReal ss[] = {0.3, 1, 1.5, 2.25, 7};

    for (size_t i = 0; i < sizeof(ss) / sizeof(ss[0]); i++) {
      const PetscReal L = i % 2 ? 2 * PETSC_PI : 1;

      PetscCall(TestShortTable(d, ss[i], L));
      PetscCall(TestShortTile(d, ss[i], L));
    }
  }
  PetscCall(TestBadInput());
  PetscCall(ReportCost());
  PetscCall(KfTestSummary(PETSC_COMM_WORLD));
  PetscFunctionReturn(PETSC_SUCCESS);
}

int main(int argc, char **argv)
{
  gsl_set_error_handler_off(); /* the references check GSL's status themselves; the default handler aborts */
  return KfTestMain(argc, argv, "Unit tests of the Ewald-split Sobolev kernel\n", RunAll);
}
